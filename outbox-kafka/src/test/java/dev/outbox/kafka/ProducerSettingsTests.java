package dev.outbox.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class ProducerSettingsTests {

  @Test
  void keepsConnectionAndTuningSettings() {
    Map<String, Object> config =
        ProducerSettings.derive(
            Map.of(
                "bootstrap.servers", "broker:9092",
                "security.protocol", "SSL",
                "compression.type", "zstd",
                "linger.ms", "15"));

    assertThat(config)
        .containsEntry("bootstrap.servers", "broker:9092")
        .containsEntry("security.protocol", "SSL")
        .containsEntry("compression.type", "zstd")
        .containsEntry("linger.ms", "15");
  }

  @Test
  void appliesTheOutboxDefaultsWhenTheApplicationSetsNone() {
    assertThat(ProducerSettings.derive(Map.of("bootstrap.servers", "broker:9092")))
        .containsEntry("linger.ms", KafkaOutboxDefaults.LINGER_MS)
        .containsEntry("batch.size", KafkaOutboxDefaults.BATCH_SIZE_BYTES)
        .containsEntry("max.block.ms", KafkaOutboxDefaults.MAX_BLOCK_MS)
        .containsEntry("compression.type", KafkaOutboxDefaults.COMPRESSION_TYPE);
  }

  @Test
  void keepsTheApplicationsTuningOverTheOutboxDefaults() {
    assertThat(
            ProducerSettings.derive(
                Map.of(
                    "linger.ms",
                    20,
                    "batch.size",
                    "16384",
                    "max.block.ms",
                    10_000,
                    "compression.type",
                    "lz4")))
        .containsEntry("linger.ms", 20)
        .containsEntry("batch.size", "16384")
        .containsEntry("max.block.ms", 10_000)
        .containsEntry("compression.type", "lz4");
  }

  @Test
  void forcesWhatTheGuaranteesDependOn() {
    Map<String, Object> config =
        ProducerSettings.derive(
            Map.of(
                "acks", "0",
                "enable.idempotence", "false",
                "transactional.id", "tx-1",
                "retries", "0",
                "max.in.flight.requests.per.connection", "10",
                "key.serializer", "com.example.Avro",
                "value.serializer", "com.example.Avro"));

    assertThat(config)
        .containsEntry("acks", "all")
        .containsEntry("enable.idempotence", true)
        .containsEntry("max.in.flight.requests.per.connection", 5)
        .containsEntry("key.serializer", StringSerializer.class)
        .containsEntry("value.serializer", StringSerializer.class)
        .containsEntry("linger.ms", KafkaOutboxDefaults.LINGER_MS)
        .doesNotContainKeys("transactional.id", "retries");
  }

  @Test
  void keepsAnOrderSafeInFlightLimit() {
    assertThat(ProducerSettings.derive(Map.of("max.in.flight.requests.per.connection", 1)))
        .containsEntry("max.in.flight.requests.per.connection", 1);
  }

  @Test
  void suffixesTheApplicationsClientId() {
    assertThat(ProducerSettings.derive(Map.of("client.id", "orders")))
        .containsEntry("client.id", "orders-outbox");
    assertThat(ProducerSettings.derive(Map.of())).doesNotContainKey("client.id");
  }
}
