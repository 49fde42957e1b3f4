package dev.outbox.kafka;

import static dev.outbox.kafka.KafkaSecurityFailuresIntegrationTests.asStrings;
import static dev.outbox.kafka.KafkaSecurityFailuresIntegrationTests.ids;
import static dev.outbox.kafka.KafkaSecurityFailuresIntegrationTests.messages;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.outbox.EventIds;
import dev.outbox.OutboxEvent;
import dev.outbox.OutboxMessage;
import dev.outbox.relay.OutboxRelay;
import dev.outbox.relay.RetryPolicy;
import dev.outbox.store.OutboxRepository.DeadEvent;
import dev.outbox.test.LogCapture;
import dev.outbox.test.TestPorts;
import dev.outbox.transport.Failures;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.errors.NotEnoughReplicasAfterAppendException;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A degraded cluster, missing topics and records the broker refuses, on a real one-broker KRaft
 * cluster: what lies with the cluster charges nothing and dead-letters nothing; what lies with one
 * record is charged to that record alone.
 */
class KafkaDegradedBrokerIntegrationTests {

  private static TestKafka kafka;
  private static KafkaOutboxTransport transport;

  private OutboxTable table;

  @BeforeAll
  static void startBroker() {
    kafka = TestKafka.start();
    transport =
        KafkaOutboxTransport.create(kafka.producerConfig(), KafkaTransportOptions.defaults());
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

  @BeforeEach
  void createOutboxTable() {
    table = new OutboxTable("kafka_deg");
  }

  @AfterEach
  void dropOutboxTable() {
    table.close();
  }

  /**
   * A broker that stops answering while its connections stay open (a hung broker, a stalled
   * network): the producer's requests time out and its records expire after {@code
   * delivery.timeout.ms}, or the relay's publish timeout passes first. Either way it lies with the
   * cluster: nothing is charged, nothing is dead-lettered, the relay reports itself unhealthy with
   * the cause once per worker, and everything arrives once the broker answers again.
   */
  @Test
  void aBrokerThatStopsAnsweringChargesNothingAndEverythingArrivesWhenItAnswersAgain()
      throws Exception {
    int proxyPort = TestPorts.unused();
    int brokerPort = TestPorts.unused();
    // The proxy holds its port before the broker starts; it connects to the broker per client.
    try (FreezingProxy proxy = new FreezingProxy(proxyPort, brokerPort);
        TestKafka hung = TestKafka.startAdvertising(brokerPort, proxyPort)) {
      String topic = hung.newTopic("hung");
      Map<String, Object> config = TestKafka.producerConfig("127.0.0.1:" + proxyPort);
      config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 4000);
      config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 2000);
      RetryPolicy strict =
          RetryPolicy.defaults()
              .withMaxAttempts(2)
              .withInitialBackoff(Duration.ofMillis(100))
              .withMaxBackoff(Duration.ofMillis(200));
      OutboxTable.OutageCycles outages = new OutboxTable.OutageCycles();

      try (KafkaOutboxTransport slow =
          KafkaOutboxTransport.create(config, KafkaTransportOptions.defaults())) {
        slow.send(event(topic, "warm-up", "{}")).get(30, TimeUnit.SECONDS);
        proxy.freeze();
        List<UUID> ids = table.write(messages(topic, 20));

        try (LogCapture logs = LogCapture.of("dev.outbox");
            OutboxRelay relay = table.relay(slow, strict, outages)) {
          relay.start();
          await().atMost(Duration.ofSeconds(90)).until(() -> outages.count() >= 3);

          assertThat(relay.isHealthy()).isFalse();
          assertThat(outages.lastFailure())
              .containsAnyOf(
                  "ms has passed since batch creation",
                  "no acknowledgement from the broker",
                  "not present in metadata");
          assertThat(table.pending()).isEqualTo(20);
          assertThat(table.dead()).isZero();
          assertThat(table.maxAttempts()).as("no attempt charged").isZero();
          assertThat(outages.retried()).isZero();
          assertThat(logs.warnings("Publishing event")).as("no line per event").isEmpty();

          proxy.thaw();

          await().atMost(Duration.ofSeconds(90)).until(() -> table.pending() == 0);
          assertThat(table.dead()).isZero();
          await().atMost(Duration.ofSeconds(30)).until(relay::isHealthy);
        }
        List<ConsumerRecord<String, String>> records =
            hung.read(topic, Duration.ofSeconds(30), read -> ids(read).containsAll(asStrings(ids)));
        assertThat(ids(records)).containsAll(asStrings(ids));
      }
    }
  }

  /**
   * NOT_ENOUGH_REPLICAS cannot be staged on one broker with Kafka 4 (since KIP-966 a broker asks
   * for at most as many in-sync replicas as a partition has replicas), and an in-JVM cluster of two
   * brokers was not stable enough on a loaded two-core machine. What the relay does with it is what
   * it does with any failure the transport reports as unavailable (see the test above); this pins
   * down that the transport does report it so.
   */
  @Test
  void tooFewInSyncReplicasAreReportedAsTheClustersFailure() {
    assertThat(transport.isBrokerUnavailable(new NotEnoughReplicasException("isr 1 < 2"))).isTrue();
    assertThat(transport.isBrokerUnavailable(new NotEnoughReplicasAfterAppendException("isr")))
        .isTrue();
  }

  /**
   * A record within the producer's {@code max.request.size} but above the topic's {@code
   * max.message.bytes}, written among small events to the same topic: the broker refuses it with
   * MESSAGE_TOO_LARGE. A record larger than {@code batch.size} travels in a produce batch of its
   * own, and with the topic's limit above {@code batch.size} a batch of small records is always
   * accepted, so only the large record fails. Random payloads, so that compression cannot shrink
   * them below the limit.
   */
  @Test
  void aRecordTooLargeForTheTopicIsDeadAloneAndItsNeighboursAreNotCharged() throws Exception {
    String topic = kafka.newTopic("limit", Map.of("max.message.bytes", "200000"));
    List<OutboxMessage> messages = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      messages.add(OutboxMessage.of(topic, null, payload(i == 15 ? 300_000 : 2_000)));
    }
    List<UUID> ids = table.write(messages);
    UUID large = ids.get(15);
    List<UUID> neighbours = new ArrayList<>(ids);
    neighbours.remove(large);
    OutboxTable.OutageCycles outages = new OutboxTable.OutageCycles();

    try (OutboxRelay relay = table.relay(transport, RetryPolicy.defaults(), outages)) {
      relay.start();
      await().atMost(Duration.ofSeconds(60)).until(() -> table.pending() == 0 && table.dead() == 1);
    }

    DeadEvent dead = table.repository.findDead(10).get(0);
    assertThat(dead.event().id()).isEqualTo(large);
    assertThat(dead.event().attempts()).isEqualTo(1);
    assertThat(dead.lastError()).contains(RecordTooLargeException.class.getSimpleName());
    assertThat(outages.retried()).as("no neighbour charged").isZero();
    assertThat(outages.count()).isZero();
    assertThat(outages.published().keySet()).containsExactlyInAnyOrderElementsOf(neighbours);
    assertThat(ids(kafka.read(topic, neighbours.size(), Duration.ofSeconds(30))))
        .containsExactlyInAnyOrderElementsOf(asStrings(neighbours));
    ConsumerRecord<String, String> deadLetter =
        kafka.read(topic + "-dlt", 1, Duration.ofSeconds(30)).get(0);
    assertThat(TestKafka.header(deadLetter, CloudEventHeaders.ID)).isEqualTo(large.toString());
  }

  /**
   * A topic name Kafka does not accept (written by a writer that does not check it): the record's
   * own failure, dead at once; its dead-letter topic name is just as invalid, so the event is DEAD
   * in the table with both errors rather than kept forever. Its neighbours are not charged.
   */
  @Test
  void anInvalidTopicNameIsDeadAtOnceWithBothErrorsAndNeighboursAreNotCharged() throws Exception {
    String topic = kafka.newTopic("valid");
    String invalid = "not a topic!";
    UUID bad = table.write(List.of(OutboxMessage.of(invalid, "bad", "{}"))).get(0);
    List<UUID> neighbours = table.write(messages(topic, 10));
    OutboxTable.OutageCycles outages = new OutboxTable.OutageCycles();

    try (OutboxRelay relay = table.relay(transport, RetryPolicy.defaults(), outages)) {
      relay.start();
      await().atMost(Duration.ofSeconds(60)).until(() -> table.pending() == 0 && table.dead() == 1);
    }

    DeadEvent dead = table.repository.findDead(10).get(0);
    assertThat(dead.event().id()).isEqualTo(bad);
    assertThat(dead.event().attempts()).isEqualTo(1);
    assertThat(dead.lastError())
        .startsWith("InvalidTopicException")
        .contains("[dead-letter send failed: InvalidTopicException");
    assertThat(outages.retried()).isZero();
    assertThat(outages.published().keySet()).containsExactlyInAnyOrderElementsOf(neighbours);
  }

  @Test
  void anEventIsNotDeadWithoutItsDeadLetterWhileTheDeadLetterTopicIsMissing() throws Exception {
    String topic = "no-dlt-" + UUID.randomUUID();
    kafka.createTopics(topic);
    String huge = "{\"blob\":\"" + "q".repeat(2 * 1024 * 1024) + "\"}";
    UUID poison = table.write(List.of(OutboxMessage.of(topic, "poison", huge))).get(0);
    List<UUID> neighbours = table.write(messages(topic, 10));
    OutboxTable.OutageCycles outages = new OutboxTable.OutageCycles();

    try (LogCapture logs = LogCapture.of("dev.outbox");
        OutboxRelay relay = table.relay(transport, RetryPolicy.defaults(), outages)) {
      relay.start();
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> table.pending() == 1 && outages.count() >= 3);

      assertThat(table.dead()).as("not DEAD without its dead letter").isZero();
      assertThat(table.attempts(poison)).as("nothing charged").isZero();
      assertThat(outages.lastFailure())
          .contains("Dead letter not sent to " + topic + "-dlt")
          .contains("TopicNotAvailableException");
      assertThat(logs.warnings("dead-lettered")).as("no line per cycle and event").isEmpty();
      assertThat(ids(kafka.read(topic, neighbours.size(), Duration.ofSeconds(30))))
          .containsExactlyInAnyOrderElementsOf(asStrings(neighbours));

      kafka.createTopics(topic + KafkaOutboxDefaults.DEAD_LETTER_SUFFIX);

      await().atMost(Duration.ofSeconds(60)).until(() -> table.dead() == 1);
      DeadEvent dead = table.repository.findDead(10).get(0);
      assertThat(dead.event().attempts()).isEqualTo(1);
      assertThat(dead.lastError()).doesNotContain("dead-letter send failed");
      assertThat(logs.warnings("are dead-lettered")).hasSize(1);
    }
    ConsumerRecord<String, String> deadLetter =
        kafka.read(topic + "-dlt", 1, Duration.ofSeconds(30)).get(0);
    assertThat(TestKafka.header(deadLetter, CloudEventHeaders.ID)).isEqualTo(poison.toString());
  }

  /**
   * Two missing topics interleaved with a working one in one batch. The client blocks a send to a
   * topic it has no metadata for up to {@code max.block.ms} (2 s here); each missing topic costs
   * the relay that wait once, after which sends to it fail at once until it appears, so the batch
   * stays within its publish timeout and its outcome is recorded: the working topic's events are
   * published once, the missing topics' events are charged one attempt per retry as documented and
   * end up dead-lettered when their retries are used up (their dead-letter topics exist), and
   * nothing is sent again and again.
   */
  @Test
  void twoMissingTopicsInterleavedInABatchCostOneWaitEachAndEverythingElseIsPublishedOnce()
      throws Exception {
    String working = kafka.newTopic("working");
    String missingA = "missing-a-" + UUID.randomUUID();
    String missingB = "missing-b-" + UUID.randomUUID();
    kafka.createTopics(
        missingA + KafkaOutboxDefaults.DEAD_LETTER_SUFFIX,
        missingB + KafkaOutboxDefaults.DEAD_LETTER_SUFFIX);
    List<OutboxMessage> messages = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      String topic = i % 3 == 0 ? working : i % 3 == 1 ? missingA : missingB;
      messages.add(OutboxMessage.of(topic, "key-" + i, "{\"n\":" + i + "}"));
    }
    List<UUID> ids = table.write(messages);
    List<UUID> toWorking = new ArrayList<>();
    for (int i = 0; i < ids.size(); i += 3) {
      toWorking.add(ids.get(i));
    }
    int maxAttempts = 3;
    RetryPolicy policy =
        RetryPolicy.defaults()
            .withMaxAttempts(maxAttempts)
            .withInitialBackoff(Duration.ofMillis(200))
            .withMaxBackoff(Duration.ofMillis(400));
    OutboxTable.OutageCycles outages = new OutboxTable.OutageCycles();

    try (KafkaOutboxTransport fresh =
            KafkaOutboxTransport.create(kafka.producerConfig(), KafkaTransportOptions.defaults());
        OutboxRelay relay =
            OutboxRelay.builder()
                .repository(table.repository)
                .transport(fresh)
                .retryPolicy(policy)
                .listener(outages)
                .workers(1)
                .batchSize(500)
                .pollInterval(Duration.ofMillis(50))
                .publishTimeout(Duration.ofSeconds(5))
                .maxErrorBackoff(Duration.ofSeconds(1))
                .build()) {
      relay.start();
      await()
          .atMost(Duration.ofSeconds(90))
          .until(() -> table.pending() == 0 && table.dead() == 40);
    }

    assertThat(outages.published().keySet()).containsExactlyInAnyOrderElementsOf(toWorking);
    assertThat(outages.published().values())
        .as("each published once: the batch's outcome was recorded the first time")
        .containsOnly(1);
    assertThat(outages.count()).as("a missing topic is not an outage").isZero();
    assertThat(outages.retried())
        .as("each missing-topic event charged once per try, never beyond its attempts")
        .isEqualTo(40 * (maxAttempts - 1));
    assertThat(table.repository.findDead(100))
        .allSatisfy(dead -> assertThat(dead.event().attempts()).isEqualTo(maxAttempts));
    assertThat(kafka.read(missingA + "-dlt", 20, Duration.ofSeconds(30))).hasSize(20);
    assertThat(kafka.read(missingB + "-dlt", 20, Duration.ofSeconds(30))).hasSize(20);
  }

  @Test
  void sendsToAMissingTopicFailAtOnceAfterOneWaitAndGoThroughAsSoonAsItExists() throws Exception {
    String topic = "late-" + UUID.randomUUID();
    try (KafkaOutboxTransport fresh =
        KafkaOutboxTransport.create(kafka.producerConfig(), KafkaTransportOptions.defaults())) {
      Throwable first = catchThrowable(() -> fresh.send(event(topic, "k", "{}")).get());
      assertThat(Failures.unwrap(first)).isInstanceOf(TopicNotAvailableException.class);
      assertThat(fresh.isBrokerUnavailable(first)).as("brokers are connected").isFalse();
      assertThat(fresh.isRetryable(first)).isTrue();

      Throwable next = catchThrowable(() -> fresh.send(event(topic, "k", "{}")).get());
      assertThat(Failures.unwrap(next))
          .as("failed at once, without waiting for the metadata again")
          .isInstanceOf(TopicNotAvailableException.class)
          .hasMessageContaining("this one fails at once");

      kafka.createTopics(topic);
      await()
          .atMost(Duration.ofSeconds(30))
          .ignoreExceptions()
          .until(
              () -> {
                fresh.send(event(topic, "k", "{}")).get(10, TimeUnit.SECONDS);
                return true;
              });
    }
  }

  private static OutboxEvent event(String topic, String key, String payload) {
    return new OutboxEvent(
        EventIds.next(), 1, topic, key, null, "Probe", 1, payload, Map.of(), Instant.now(), 0);
  }

  private static final SecureRandom RANDOM = new SecureRandom();

  /** A JSON payload of about {@code size} bytes that does not compress. */
  private static String payload(int size) {
    byte[] bytes = new byte[size * 3 / 4];
    RANDOM.nextBytes(bytes);
    return "{\"blob\":\"" + Base64.getEncoder().encodeToString(bytes) + "\"}";
  }
}
