package dev.outbox.benchmarks.producer;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * One producer configuration under test: the three settings varied, the rest as the outbox forces;
 * {@code latency} false for a configuration measured for throughput only.
 */
record ProducerConfigCase(int lingerMs, int batchSize, String compression, boolean latency) {

  /**
   * {@code linger/batch/compression}, with {@code /throughput} appended to skip the latency runs.
   */
  static ProducerConfigCase parse(String text) {
    String[] parts = text.split("/");
    return new ProducerConfigCase(
        Integer.parseInt(parts[0]),
        Integer.parseInt(parts[1]),
        parts[2],
        parts.length < 4 || !parts[3].equals("throughput"));
  }

  /** The producer configuration of the outbox transport with these three settings. */
  Map<String, Object> producerConfig(String bootstrap) {
    Map<String, Object> config = new HashMap<>();
    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    config.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
    config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 2000);
    config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    config.put(ProducerConfig.LINGER_MS_CONFIG, lingerMs);
    config.put(ProducerConfig.BATCH_SIZE_CONFIG, batchSize);
    config.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, compression);
    return config;
  }

  String label() {
    return "linger " + lingerMs + " / batch " + batchSize + " / " + compression;
  }

  String topicSuffix() {
    return lingerMs + "-" + batchSize + "-" + compression;
  }
}
