package dev.outbox.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.EventIds;
import dev.outbox.OutboxEvent;
import dev.outbox.kafka.autoconfigure.OutboxKafkaAutoConfiguration;
import dev.outbox.transport.DeadLetter;
import io.cloudevents.CloudEvent;
import io.cloudevents.kafka.CloudEventDeserializer;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * Records as a consumer that knows nothing of this library reads them: the CloudEvents SDK's Kafka
 * deserializer ({@code io.cloudevents:cloudevents-kafka}), which parses {@code ce_source} as a URI
 * reference and {@code ce_time} as RFC 3339 and fails the record (the consumer's poll) when one is
 * not, and a plain consumer for what the SDK does not read.
 */
class CloudEventsSdkConsumerIntegrationTests {

  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private static TestKafka kafka;

  @BeforeAll
  static void startBroker() {
    kafka = TestKafka.start();
  }

  @AfterAll
  static void stopBroker() {
    if (kafka != null) {
      kafka.close();
    }
  }

  /**
   * An application name is not always a URI reference ({@code Order Service}); the default source
   * made from it is (percent-encoded), so the SDK reads the record instead of failing the poll with
   * {@code Invalid attribute/extension value for "source": Order Service}.
   */
  @Test
  void anApplicationNameWithASpaceBecomesASourceTheCloudEventsSdkReads() {
    String topic = kafka.newTopic("source");
    new ApplicationContextRunner()
        .withConfiguration(
            AutoConfigurations.of(KafkaAutoConfiguration.class, OutboxKafkaAutoConfiguration.class))
        .withPropertyValues(
            "spring.kafka.bootstrap-servers=" + kafka.bootstrapServers(),
            "spring.application.name=Order Service")
        .run(
            context -> {
              KafkaOutboxTransport transport = context.getBean(KafkaOutboxTransport.class);
              OutboxEvent event =
                  new OutboxEvent(
                      EventIds.next(),
                      1,
                      topic,
                      "order-1",
                      null,
                      "OrderPlaced",
                      1,
                      "{}",
                      Map.of(),
                      Instant.now(),
                      0);

              transport.send(event).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);

              List<ConsumerRecord<String, CloudEvent>> records =
                  kafka.read(topic, CloudEventDeserializer.class, TIMEOUT, r -> !r.isEmpty());
              assertThat(records).hasSize(1);
              CloudEvent read = records.get(0).value();
              assertThat(read.getId()).isEqualTo(event.id().toString());
              assertThat(read.getSource()).isEqualTo(URI.create("Order%20Service"));
            });
  }

  /**
   * Keys and payloads as they come: a non-ASCII key of the longest size the outbox accepts (1,024
   * UTF-8 bytes), a non-ASCII payload, and payloads that are a JSON string, array or {@code null}.
   * Each arrives as its event, the data byte for byte as written.
   */
  @Test
  void theSdkReadsEveryKindOfKeyAndJsonPayloadAsWritten() throws Exception {
    String topic = kafka.newTopic("payloads");
    String longKey = "ü".repeat(512);
    List<OutboxEvent> events =
        List.of(
            event(topic, "Bestellung-ü-日本", "{\"name\":\"Müller 日本\"}"),
            event(topic, longKey, "\"just a string\""),
            event(topic, "k-array", "[1,2,3]"),
            event(topic, "k-null", "null"));
    try (KafkaOutboxTransport transport = transport()) {
      for (OutboxEvent event : events) {
        transport.send(event).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      }
    }

    List<ConsumerRecord<String, CloudEvent>> records =
        kafka.read(topic, CloudEventDeserializer.class, TIMEOUT, r -> r.size() >= events.size());
    assertThat(records).hasSize(events.size());
    for (OutboxEvent event : events) {
      ConsumerRecord<String, CloudEvent> record =
          records.stream()
              .filter(r -> r.value().getId().equals(event.id().toString()))
              .findFirst()
              .orElseThrow();
      assertThat(record.key()).isEqualTo(event.key());
      assertThat(record.value().getSubject()).isEqualTo(event.key());
      assertThat(record.value().getTime().toInstant()).isEqualTo(event.createdAt());
      assertThat(new String(record.value().getData().toBytes(), StandardCharsets.UTF_8))
          .isEqualTo(event.payload());
    }
    assertThat(longKey.getBytes(StandardCharsets.UTF_8)).hasSize(1024);
  }

  /**
   * A dead letter is the same CloudEvent to the SDK (same id, type, subject and data); one whose
   * payload was left out (too large for Kafka) has no value, which the Kafka client hands over as
   * {@code null} without calling the deserializer, so its id is read from the headers.
   */
  @Test
  void theSdkReadsADeadLetterAsTheSameEventAndAPayloadOmittedOneAsANullValue() throws Exception {
    String topic = kafka.newTopic("dead");
    OutboxEvent failed = event(topic, "order-7", "{\"orderId\":\"order-7\"}");
    OutboxEvent tooLarge = event(topic, "order-8", "{\"orderId\":\"order-8\"}");
    try (KafkaOutboxTransport transport = transport()) {
      transport
          .sendToDeadLetter(failed, new DeadLetter("boom", "java.lang.IllegalStateException", 3))
          .get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      transport
          .sendToDeadLetter(
              tooLarge,
              new DeadLetter(
                  "too large", "org.apache.kafka.common.errors.RecordTooLargeException", 1))
          .get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    }

    List<ConsumerRecord<String, CloudEvent>> records =
        kafka.read(
            topic + KafkaOutboxDefaults.DEAD_LETTER_SUFFIX,
            CloudEventDeserializer.class,
            TIMEOUT,
            r -> r.size() >= 2);
    assertThat(records).hasSize(2);
    ConsumerRecord<String, CloudEvent> dead =
        records.stream().filter(r -> "order-7".equals(r.key())).findFirst().orElseThrow();
    assertThat(dead.value().getId()).isEqualTo(failed.id().toString());
    assertThat(dead.value().getType()).isEqualTo("OrderPlaced");
    assertThat(dead.value().getSubject()).isEqualTo("order-7");
    assertThat(new String(dead.value().getData().toBytes(), StandardCharsets.UTF_8))
        .isEqualTo(failed.payload());
    assertThat(TestKafka.header(dead, DeadLetterHeaders.ERROR)).isEqualTo("boom");
    ConsumerRecord<String, CloudEvent> omitted =
        records.stream().filter(r -> "order-8".equals(r.key())).findFirst().orElseThrow();
    assertThat(omitted.value()).isNull();
    assertThat(TestKafka.header(omitted, CloudEventHeaders.ID)).isEqualTo(tooLarge.id().toString());
    assertThat(TestKafka.header(omitted, DeadLetterHeaders.PAYLOAD_OMITTED)).isEqualTo("true");
  }

  private static KafkaOutboxTransport transport() {
    return KafkaOutboxTransport.create(
        kafka.producerConfig(), KafkaTransportOptions.defaults().withSource("order-service"));
  }

  private static OutboxEvent event(String topic, String key, String payload) {
    return new OutboxEvent(
        EventIds.next(),
        1,
        topic,
        key,
        null,
        "OrderPlaced",
        1,
        payload,
        Map.of(),
        Instant.now().truncatedTo(ChronoUnit.MICROS),
        0);
  }
}
