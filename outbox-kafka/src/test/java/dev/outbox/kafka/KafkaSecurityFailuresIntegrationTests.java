package dev.outbox.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.OutboxMessage;
import dev.outbox.relay.OutboxRelay;
import dev.outbox.relay.RetryPolicy;
import dev.outbox.test.LogCapture;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
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
    String topic = writableTopic("creds");
    List<UUID> ids = table.write(messages(topic, 20));
    OutboxTable.OutageCycles outages = new OutboxTable.OutageCycles();

    try (LogCapture logs = LogCapture.of("dev.outbox");
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

    try (KafkaOutboxTransport fixed = appTransport();
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
    String allowed = writableTopic("allowed");
    String denied = kafka.newTopic("denied");
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

    try (LogCapture logs = LogCapture.of("dev.outbox");
        KafkaOutboxTransport transport = appTransport();
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

  /**
   * The events of a topic without write permission fill the oldest rows of every slot (2,500 of
   * them, about 39 a slot, more than the 31 a slot that a worker with batches of 500 reads): the
   * relay holds their keys back (one in five is unkeyed: held back with the topic) and publishes
   * the 500 events of another topic queued behind them, with no attempt charged and its health DOWN
   * throughout, naming the topic, without a "recovered" line in between. Once the permission is
   * granted, they go out at the next probe.
   */
  @Test
  void theEventsOfATopicWithoutPermissionDoNotHoldUpAnotherTopicsEventsQueuedBehindThem()
      throws Exception {
    String open = writableTopic("open");
    String shut = kafka.newTopic("shut");
    List<OutboxMessage> toShut = new ArrayList<>();
    for (int i = 0; i < 2_500; i++) {
      // every fifth unkeyed: held back with its topic, having no key to hold
      toShut.add(OutboxMessage.of(shut, i % 5 == 0 ? null : "shut-" + i, "{}"));
    }
    List<OutboxMessage> toOpen = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      toOpen.add(OutboxMessage.of(open, "order-" + i, "{}"));
    }
    List<UUID> shutIds = table.write(toShut);
    List<UUID> openIds = table.write(toOpen);
    OutboxTable.OutageCycles outages = new OutboxTable.OutageCycles();

    try (LogCapture logs = LogCapture.of("dev.outbox");
        KafkaOutboxTransport transport = appTransport();
        OutboxRelay relay = table.relay(transport, STRICT, outages)) {
      relay.start();

      assertThat(ids(kafka.read(open, openIds.size(), Duration.ofSeconds(60))))
          .as("the other topic's events, queued behind 2,500 that cannot go")
          .containsExactlyInAnyOrderElementsOf(asStrings(openIds));
      assertThat(table.pending()).isEqualTo(shutIds.size());
      assertThat(relay.isHealthy()).isFalse();
      assertThat(relay.lastFailure()).contains("TopicAuthorizationException").contains(shut);
      assertThat(table.maxAttempts()).as("no attempt charged").isZero();
      assertThat(table.dead()).isZero();
      assertThat(logs.lines("broker recovered"))
          .as("not reported recovered while events wait for their topic")
          .isEmpty();

      kafka.allowWrite(shut);

      await().atMost(Duration.ofSeconds(60)).until(() -> table.pending() == 0);
      assertThat(table.dead()).isZero();
      assertThat(table.maxAttempts()).as("no attempt charged").isZero();
      assertThat(ids(kafka.read(shut, shutIds.size(), Duration.ofSeconds(30))))
          .containsExactlyInAnyOrderElementsOf(asStrings(shutIds));
      await().atMost(Duration.ofSeconds(30)).until(relay::isHealthy);
    }
  }

  /**
   * Only one topic's refused permission is that topic's failure; the others concern every topic.
   */
  @Test
  void onlyATopicsRefusedPermissionIsReportedAsThatDestinationsFailure() {
    try (KafkaOutboxTransport transport = appTransport()) {
      TopicAuthorizationException topic = new TopicAuthorizationException(Set.of("orders"));
      assertThat(transport.isBrokerUnavailable(topic)).isTrue();
      assertThat(transport.isDestinationUnavailable(topic)).isTrue();
      assertThat(transport.isDestinationUnavailable(new ClusterAuthorizationException("cluster")))
          .isFalse();
      assertThat(transport.isDestinationUnavailable(new SaslAuthenticationException("login")))
          .isFalse();
      assertThat(transport.isDestinationUnavailable(new TimeoutException("no broker"))).isFalse();
      assertThat(
              transport.isDestinationUnavailable(
                  new DeadLetterNotSentException("orders-dlt", topic)))
          .as("a dead-letter topic that may not be written")
          .isTrue();
      assertThat(
              transport.isDestinationUnavailable(
                  new DeadLetterNotSentException("orders-dlt", new TimeoutException("no broker"))))
          .as("a dead letter the cluster did not take")
          .isFalse();
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

    try (KafkaOutboxTransport transport = appTransport();
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

  /** A new topic the application's user may write, with its dead-letter topic. */
  private static String writableTopic(String prefix) {
    String topic = kafka.newTopic(prefix);
    kafka.allowWrite(topic);
    kafka.allowWrite(topic + KafkaOutboxDefaults.DEAD_LETTER_SUFFIX);
    return topic;
  }

  /** A transport logged in as the application's user, with the right password. */
  private static KafkaOutboxTransport appTransport() {
    return KafkaOutboxTransport.create(
        kafka.saslProducerConfig(TestKafka.APP_USER, TestKafka.APP_PASSWORD),
        KafkaTransportOptions.defaults());
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
