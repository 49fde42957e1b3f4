package dev.outbox.benchmarks;

import java.time.Duration;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads a whole topic and checks per-key order: within a key, event numbers must grow in the order
 * they were written. A repeated number is a duplicate (allowed, at-least-once), a smaller unseen
 * one an inversion.
 */
final class OrderCheck {

  private OrderCheck() {}

  /**
   * @param killMillis when a relay JVM was killed ({@link System#currentTimeMillis()}), or 0: then
   *     the result has a {@code failover} entry with, per key, the gap between the record
   *     timestamps (producer CreateTime, i.e. when a relay sent it) of the last event sent before
   *     the kill and the next one: for the keys the killed JVM was publishing, that is how long
   *     they waited.
   */
  static Map<String, Object> check(
      Settings settings, String topic, long expected, long killMillis) {
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
    Map<String, Long> lastTimeOfKey = new HashMap<>();
    long longestGap = 0;
    String longestGapKey = null;
    long keysOver1s = 0;
    long longestGapAnyTime = 0;
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
          Long lastTime = lastTimeOfKey.put(record.key(), record.timestamp());
          if (lastTime != null) {
            long gap = record.timestamp() - lastTime;
            longestGapAnyTime = Math.max(longestGapAnyTime, gap);
            if (killMillis > 0 && lastTime <= killMillis && record.timestamp() > killMillis) {
              if (gap > longestGap) {
                longestGap = gap;
                longestGapKey = record.key();
              }
              if (gap > 1000) {
                keysOver1s++;
              }
            }
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
      Map<String, Object> failover = new LinkedHashMap<>();
      failover.put("longestGapAcrossKillMs", longestGap);
      failover.put("longestGapKey", longestGapKey);
      failover.put("keysWaitingOver1s", keysOver1s);
      failover.put("longestGapAnyTimeMs", longestGapAnyTime);
      out.put("failover", failover);
    }
    return out;
  }
}
