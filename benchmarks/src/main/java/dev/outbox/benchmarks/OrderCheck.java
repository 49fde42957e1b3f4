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

  static Map<String, Object> check(Settings settings, String topic, long expected) {
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
    return out;
  }
}
