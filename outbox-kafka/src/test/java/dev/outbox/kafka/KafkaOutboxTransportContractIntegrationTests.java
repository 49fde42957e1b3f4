package dev.outbox.kafka;

import dev.outbox.OutboxEvent;
import dev.outbox.transport.OutboxTransport;
import dev.outbox.transport.OutboxTransportContractTests;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The transport contract against a real KRaft broker, read back with a plain {@link
 * org.apache.kafka.clients.consumer.KafkaConsumer}, as a third-party consumer would.
 */
class KafkaOutboxTransportContractIntegrationTests extends OutboxTransportContractTests {

  private static TestKafka kafka;
  private static KafkaOutboxTransport transport;

  @BeforeAll
  static void startBroker() {
    kafka = TestKafka.start();
    transport =
        KafkaOutboxTransport.create(
            kafka.producerConfig(), KafkaTransportOptions.defaults().withSource("contract-tests"));
  }

  @AfterAll
  static void stopBroker() {
    if (transport != null) {
      transport.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  @Override
  protected OutboxTransport transport() {
    return transport;
  }

  @Override
  protected String newDestination() {
    return kafka.newTopic("orders");
  }

  /**
   * A topic that does not exist (automatic creation is off), so every send times out waiting for
   * its metadata. Its dead-letter topic exists, as an operator would have created it.
   */
  @Override
  protected String failingDestination() {
    String topic = "missing-" + UUID.randomUUID();
    kafka.createTopics(topic + KafkaOutboxDefaults.DEAD_LETTER_SUFFIX);
    return topic;
  }

  @Override
  protected List<Received> receive(String destination, int count, Duration timeout) {
    return kafka.read(destination, count, timeout).stream()
        .map(KafkaOutboxTransportContractIntegrationTests::received)
        .toList();
  }

  @Override
  protected List<Received> receiveDeadLetters(OutboxEvent event, int count, Duration timeout) {
    return receive(transport.deadLetterDestination(event), count, timeout);
  }

  @Override
  protected String originalDestinationHeader() {
    return DeadLetterHeaders.ORIGINAL_TOPIC;
  }

  @Override
  protected String attemptsHeader() {
    return DeadLetterHeaders.ATTEMPTS;
  }

  @Override
  protected String errorHeader() {
    return DeadLetterHeaders.ERROR;
  }

  private static Received received(ConsumerRecord<String, String> record) {
    String id = TestKafka.header(record, CloudEventHeaders.ID);
    return new Received(
        id == null ? "" : id,
        record.key(),
        TestKafka.header(record, CloudEventHeaders.TYPE),
        record.value() == null ? "" : record.value(),
        TestKafka.headers(record));
  }
}
