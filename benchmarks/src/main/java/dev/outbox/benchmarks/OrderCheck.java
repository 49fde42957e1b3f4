package dev.outbox.benchmarks;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads a whole topic and checks per-key order: within a key, event numbers must grow in the order
 * they were written. A repeated number is a duplicate (allowed, at-least-once), a smaller unseen
 * one an inversion.
 */
final class OrderCheck {

  private OrderCheck() {}

  /** The CloudEvents header naming who sent a record ({@code spring.application.name}). */
  static final String SOURCE_HEADER = "ce_source";

  /** Keys the killed JVM sent within this time before the kill count as its keys. */
  static final long OWNED_WINDOW_MS = 2000;

  /**
   * @param killMillis when a relay JVM was killed ({@link System#currentTimeMillis()}), or 0
   * @param killedSource the {@value #SOURCE_HEADER} of the killed JVM's records; with {@code
   *     killMillis}, the result has a {@code failover} entry: the keys that JVM sent in the {@value
   *     #OWNED_WINDOW_MS} ms before the kill are taken as its keys, and the longest pause in the
   *     records of those keys (record timestamps, producer CreateTime: when a relay sent them) is
   *     the gap from the last one sent before the kill to the first one sent after it
   */
  static Map<String, Object> check(
      Settings settings, String topic, long expected, long killMillis, String killedSource) {
    Map<String, Object> config =
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
            settings.kafkaBootstrap(),
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
            false,
            ConsumerConfig.MAX_POLL_RECORDS_CONFIG,
            5000,
            ConsumerConfig.FETCH_MAX_BYTES_CONFIG,
            64 * 1024 * 1024,
            ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG,
            16 * 1024 * 1024);
    Map<String, Long> lastOfKey = new HashMap<>();
    // For the failover figure: every record's key and timestamp, and the killed JVM's keys.
    List<String> recordKeys = new ArrayList<>();
    List<Long> recordTimes = new ArrayList<>();
    Set<String> owned = new HashSet<>();
    BitSet seen = new BitSet();
    long consumed = 0;
    long duplicates = 0;
    long inversions = 0;
    try (KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(topic).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long total = consumer.endOffsets(partitions).values().stream().mapToLong(v -> v).sum();
      long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
      while (consumed < total && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
          consumed++;
          if (killMillis > 0) {
            recordKeys.add(record.key());
            recordTimes.add(record.timestamp());
            Header source = record.headers().lastHeader(SOURCE_HEADER);
            if (source != null
                && killedSource.equals(new String(source.value(), StandardCharsets.UTF_8))
                && record.timestamp() <= killMillis
                && record.timestamp() > killMillis - OWNED_WINDOW_MS) {
              owned.add(record.key());
            }
          }
          long n = OrderEvent.parseN(record.value());
          if (seen.get((int) n)) {
            duplicates++;
            continue;
          }
          seen.set((int) n);
          Long last = lastOfKey.put(record.key(), n);
          if (last != null && last > n) {
            inversions++;
          }
        }
      }
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("consumed", consumed);
    out.put("distinct", seen.cardinality());
    out.put("missing", expected - seen.cardinality());
    out.put("duplicates", duplicates);
    out.put("inversions", inversions);
    out.put("keys", lastOfKey.size());
    if (killMillis > 0) {
      long lastBefore = Long.MIN_VALUE;
      long firstAfter = Long.MAX_VALUE;
      Map<String, Long> resumed = new HashMap<>();
      for (int i = 0; i < recordKeys.size(); i++) {
        if (!owned.contains(recordKeys.get(i))) {
          continue;
        }
        long t = recordTimes.get(i);
        if (t <= killMillis) {
          lastBefore = Math.max(lastBefore, t);
        } else {
          firstAfter = Math.min(firstAfter, t);
          resumed.merge(recordKeys.get(i), t, Math::min);
        }
      }
      long slowestKey = 0;
      for (long t : resumed.values()) {
        slowestKey = Math.max(slowestKey, t - killMillis);
      }
      boolean paused = lastBefore != Long.MIN_VALUE && firstAfter != Long.MAX_VALUE;
      Map<String, Object> failover = new LinkedHashMap<>();
      failover.put("killedSource", killedSource);
      failover.put("ownedKeys", owned.size());
      failover.put("ownedKeysWithLaterEvents", resumed.size());
      failover.put("pauseMs", paused ? firstAfter - lastBefore : -1);
      failover.put("firstAfterKillMs", firstAfter == Long.MAX_VALUE ? -1 : firstAfter - killMillis);
      failover.put("slowestOwnedKeyAfterKillMs", slowestKey);
      out.put("failover", failover);
    }
    return out;
  }
}
