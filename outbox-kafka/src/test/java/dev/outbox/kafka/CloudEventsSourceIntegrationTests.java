package dev.outbox.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.EventIds;
import dev.outbox.OutboxEvent;
import dev.outbox.kafka.autoconfigure.OutboxKafkaAutoConfiguration;
import io.cloudevents.CloudEvent;
import io.cloudevents.kafka.CloudEventDeserializer;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
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
 * The CloudEvents {@code source} as a consumer that knows nothing of this library reads it: the
 * CloudEvents SDK's Kafka deserializer parses {@code ce_source} as a URI reference and fails the
 * record (the consumer's poll) when it is not one.
 */
class CloudEventsSourceIntegrationTests {

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
}
