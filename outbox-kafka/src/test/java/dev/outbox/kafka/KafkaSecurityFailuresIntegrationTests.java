package dev.outbox.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.OutboxMessage;
import dev.outbox.relay.OutboxRelay;
import dev.outbox.relay.RetryPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Wrong credentials and missing permissions, against a real broker with a SASL/PLAIN listener and
 * the KRaft {@code StandardAuthorizer}: they are the operator's to fix, so they charge no attempt
 * and dead-letter nothing; the relay reports itself unhealthy with the cause until they are fixed.
 */
class KafkaSecurityFailuresIntegrationTests {

  /** Two attempts only: a security failure that used any of them up would show at once. */
  private static final RetryPolicy STRICT =
      RetryPolicy.defaults()
          .withMaxAttempts(2)
          .withInitialBackoff(Duration.ofMillis(100))
          .withMaxBackoff(Duration.ofMillis(200));

  private static TestKafka kafka;

  private OutboxTable table;

  @BeforeAll
  static void startBroker() {
    kafka = TestKafka.startSecured();
  }

  @AfterAll
  static void stopBroker() {
    if (kafka != null) {
      kafka.close();
    }
  }

  @BeforeEach
  void createOutboxTable() {
    table = new OutboxTable("kafka_sec");
  }

  @AfterEach
  void dropOutboxTable() {
    table.close();
  }

  @Test
  void wrongCredentialsChargeNothingDeadLetterNothingAndEverythingArrivesWithTheRightOnes()
      throws Exception {
    String topic = kafka.newTopic("creds");
    kafka.allowWrite(topic);
    kafka.allowWrite(topic + KafkaOutboxDefaults.DEAD_LETTER_SUFFIX);
    List<UUID> ids = table.write(messages(topic, 20));
    OutboxTable.OutageCycles outages = new OutboxTable.OutageCycles();

    try (LogLines logs = LogLines.capture();
        KafkaOutboxTransport rotated =
            KafkaOutboxTransport.create(
                kafka.saslProducerConfig(TestKafka.APP_USER, "rotated-away"),
                KafkaTransportOptions.defaults());
        OutboxRelay relay = table.relay(rotated, STRICT, outages)) {
      relay.start();
      await().atMost(Duration.ofSeconds(60)).until(() -> outages.count() >= 5);

      assertThat(relay.isHealthy()).isFalse();
      assertThat(relay.lastFailure()).contains("SaslAuthenticationException");
      assertThat(table.pending()).isEqualTo(20);
      assertThat(table.dead()).isZero();
      assertThat(table.maxAttempts()).as("no attempt charged").isZero();
      assertThat(outages.retried()).isZero();
      assertThat(logs.warnings("SaslAuthenticationException"))
          .as("one line per worker when it starts failing, not one per cycle or event")
          .hasSizeBetween(1, 2);
    }

    try (KafkaOutboxTransport fixed =
            KafkaOutboxTransport.create(
                kafka.saslProducerConfig(TestKafka.APP_USER, TestKafka.APP_PASSWORD),
                KafkaTransportOptions.defaults());
        OutboxRelay relay = table.relay(fixed, STRICT, outages)) {
      relay.start();
      await().atMost(Duration.ofSeconds(60)).until(() -> table.pending() == 0);
      assertThat(table.dead()).isZero();
      assertThat(ids(kafka.read(topic, ids.size(), Duration.ofSeconds(30))))
          .containsExactlyInAnyOrderElementsOf(asStrings(ids));
    }
  }

  @Test
  void aTopicWithoutWritePermissionChargesNothingAndIsDeliveredOnceGrantedWhileOthersFlow()
      throws Exception {
    String allowed = kafka.newTopic("allowed");
    String denied = kafka.newTopic("denied");
    kafka.allowWrite(allowed);
    kafka.allowWrite(allowed + KafkaOutboxDefaults.DEAD_LETTER_SUFFIX);
    List<OutboxMessage> messages = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      messages.add(OutboxMessage.of(i % 2 == 0 ? allowed : denied, "order-" + i, "{}"));
    }
    List<UUID> ids = table.write(messages);
    List<UUID> toAllowed = new ArrayList<>();
    List<UUID> toDenied = new ArrayList<>();
    for (int i = 0; i < ids.size(); i++) {
      (i % 2 == 0 ? toAllowed : toDenied).add(ids.get(i));
    }
    OutboxTable.OutageCycles outages = new OutboxTable.OutageCycles();

    try (LogLines logs = LogLines.capture();
        KafkaOutboxTransport transport =
            KafkaOutboxTransport.create(
                kafka.saslProducerConfig(TestKafka.APP_USER, TestKafka.APP_PASSWORD),
                KafkaTransportOptions.defaults());
        OutboxRelay relay = table.relay(transport, STRICT, outages)) {
      relay.start();
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> table.pending() == toDenied.size() && outages.count() >= 5);

      assertThat(ids(kafka.read(allowed, toAllowed.size(), Duration.ofSeconds(30))))
          .as("the other topic is delivered meanwhile")
          .containsExactlyInAnyOrderElementsOf(asStrings(toAllowed));
      assertThat(outages.lastFailure()).contains("TopicAuthorizationException");
      assertThat(table.dead()).isZero();
      assertThat(table.maxAttempts()).as("no attempt charged").isZero();
      assertThat(outages.retried()).isZero();
      assertThat(logs.warnings("TopicAuthorizationException")).hasSizeBetween(1, 2);

      kafka.allowWrite(denied);

      await().atMost(Duration.ofSeconds(60)).until(() -> table.pending() == 0);
      assertThat(table.dead()).isZero();
      assertThat(ids(kafka.read(denied, toDenied.size(), Duration.ofSeconds(30))))
          .containsExactlyInAnyOrderElementsOf(asStrings(toDenied));
      await().atMost(Duration.ofSeconds(30)).until(relay::isHealthy);
    }
  }

  @Test
  void anEventIsNotDeadWithoutItsDeadLetterWhileTheDeadLetterTopicMayNotBeWritten()
      throws Exception {
    String topic = kafka.newTopic("dlt-denied");
    kafka.allowWrite(topic);
    String huge = "{\"blob\":\"" + "z".repeat(2 * 1024 * 1024) + "\"}";
    UUID poison = table.write(List.of(OutboxMessage.of(topic, "poison", huge))).get(0);
    List<UUID> neighbours = table.write(messages(topic, 10));
    OutboxTable.OutageCycles outages = new OutboxTable.OutageCycles();

    try (KafkaOutboxTransport transport =
            KafkaOutboxTransport.create(
                kafka.saslProducerConfig(TestKafka.APP_USER, TestKafka.APP_PASSWORD),
                KafkaTransportOptions.defaults());
        OutboxRelay relay = table.relay(transport, STRICT, outages)) {
      relay.start();
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> table.pending() == 1 && outages.count() >= 3);

      assertThat(table.dead()).as("not DEAD without its dead letter").isZero();
      assertThat(table.attempts(poison)).isZero();
      assertThat(outages.lastFailure())
          .contains("Dead letter not sent to " + topic + "-dlt")
          .contains("TopicAuthorizationException");
      assertThat(ids(kafka.read(topic, neighbours.size(), Duration.ofSeconds(30))))
          .containsExactlyInAnyOrderElementsOf(asStrings(neighbours));

      kafka.allowWrite(topic + KafkaOutboxDefaults.DEAD_LETTER_SUFFIX);

      await().atMost(Duration.ofSeconds(60)).until(() -> table.dead() == 1);
      assertThat(table.repository.findDead(10).get(0).event().attempts()).isEqualTo(1);
      assertThat(table.repository.findDead(10).get(0).lastError())
          .contains("RecordTooLargeException")
          .doesNotContain("dead-letter send failed");
      ConsumerRecord<String, String> deadLetter =
          kafka.read(topic + "-dlt", 1, Duration.ofSeconds(30)).get(0);
      assertThat(TestKafka.header(deadLetter, CloudEventHeaders.ID)).isEqualTo(poison.toString());
    }
  }

  static List<OutboxMessage> messages(String topic, int count) {
    List<OutboxMessage> messages = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      messages.add(OutboxMessage.of(topic, "order-" + (i % 5), "{\"n\":" + i + "}"));
    }
    return messages;
  }

  static Set<String> ids(List<ConsumerRecord<String, String>> records) {
    Set<String> ids = new HashSet<>();
    for (ConsumerRecord<String, String> record : records) {
      ids.add(TestKafka.header(record, CloudEventHeaders.ID));
    }
    return ids;
  }

  static Set<String> asStrings(List<UUID> ids) {
    Set<String> strings = new HashSet<>();
    ids.forEach(id -> strings.add(id.toString()));
    return strings;
  }
}
