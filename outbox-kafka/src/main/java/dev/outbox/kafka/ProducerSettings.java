package dev.outbox.kafka;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Derives the outbox producer's configuration from the application's: connection, security and
 * tuning settings are kept; what the outbox's guarantees depend on is forced.
 */
final class ProducerSettings {

  /** The most in-flight requests per connection that keep idempotent sends in order. */
  static final int MAX_IN_FLIGHT_FOR_ORDER = 5;

  /** Appended to an application {@code client.id}, so the two producers' metrics do not clash. */
  static final String CLIENT_ID_SUFFIX = "-outbox";

  private ProducerSettings() {}

  /**
   * The outbox producer's configuration: {@code acks=all} and idempotence (an acknowledged event is
   * durable, and the producer's own retries neither duplicate nor reorder it), String serializers,
   * no {@code transactional.id} (the outbox table, not a Kafka transaction, makes it atomic), no
   * {@code retries} override (idempotence requires retries; {@code delivery.timeout.ms} bounds
   * them), at most {@value #MAX_IN_FLIGHT_FOR_ORDER} requests in flight, and, unless the
   * application chose values, the tuning defaults of {@link KafkaOutboxDefaults}: {@code
   * linger.ms}, {@code batch.size} and {@code compression.type} (chosen by measurement, see there)
   * and {@code max.block.ms} (a send to an unreachable cluster must not hold the relay thread for a
   * minute).
   */
  static Map<String, Object> derive(Map<String, Object> application) {
    Map<String, Object> config = new HashMap<>(application);
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    config.remove(ProducerConfig.TRANSACTIONAL_ID_CONFIG);
    config.remove(ProducerConfig.RETRIES_CONFIG);
    config.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, KafkaOutboxDefaults.LINGER_MS);
    config.putIfAbsent(ProducerConfig.BATCH_SIZE_CONFIG, KafkaOutboxDefaults.BATCH_SIZE_BYTES);
    config.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, KafkaOutboxDefaults.MAX_BLOCK_MS);
    config.putIfAbsent(
        ProducerConfig.COMPRESSION_TYPE_CONFIG, KafkaOutboxDefaults.COMPRESSION_TYPE);
    Object inFlight = config.get(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION);
    if (inFlight != null
        && Integer.parseInt(inFlight.toString().trim()) > MAX_IN_FLIGHT_FOR_ORDER) {
      config.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, MAX_IN_FLIGHT_FOR_ORDER);
    }
    Object clientId = config.get(ProducerConfig.CLIENT_ID_CONFIG);
    if (clientId != null && !clientId.toString().isBlank()) {
      config.put(ProducerConfig.CLIENT_ID_CONFIG, clientId + CLIENT_ID_SUFFIX);
    }
    return config;
  }
}
