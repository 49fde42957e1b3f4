package dev.outbox.rabbit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.GetResponse;
import dev.outbox.EventIds;
import dev.outbox.OutboxEvent;
import dev.outbox.test.TestRabbit;
import dev.outbox.transport.DeadLetter;
import dev.outbox.transport.Failures;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** RabbitMQ-specific behaviour of the transport against the real broker. */
class RabbitOutboxTransportIntegrationTests {

  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private BrokerFixture broker;
  private BrokerFixture.Route deadLetters;
  private RabbitOutboxOptions options;
  private RabbitOutboxTransport transport;

  @BeforeEach
  void connect() {
    broker = new BrokerFixture();
    deadLetters = broker.route("transport-dlx", "#");
    options =
        RabbitOutboxOptions.defaults()
            .withSource("order-service")
            .withDeadLetterExchange(deadLetters.exchange());
    transport = new RabbitOutboxTransport(broker.connectionFactory(), options);
  }

  @AfterEach
  void disconnect() {
    broker.close();
  }

  private static OutboxEvent event(String destination, @Nullable String key) {
    return new OutboxEvent(
        EventIds.next(),
        7,
        destination,
        key,
        "Order",
        "OrderPlaced",
        2,
        "{\"orderId\":\"" + key + "\"}",
        Map.of("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        Instant.parse("2025-03-01T10:15:30.123456Z"),
        0);
  }

  private static Map<String, String> headers(GetResponse response) {
    Map<String, String> headers = new HashMap<>();
    response.getProps().getHeaders().forEach((name, value) -> headers.put(name, value.toString()));
    return headers;
  }

  private Throwable failureOf(OutboxEvent event) {
    return Failures.unwrap(
        catchThrowable(() -> transport.send(event).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS)));
  }

  @Test
  void messageCarriesAmqpPropertiesCloudEventsAttributesAndEventHeaders() throws Exception {
    BrokerFixture.Route route = broker.route("format", "#");
    OutboxEvent event = event(route.exchange(), "order-1");

    transport.send(event).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);

    GetResponse response = broker.take(route.queue(), 1, TIMEOUT).get(0);
    AMQP.BasicProperties properties = response.getProps();
    assertThat(properties.getMessageId()).isEqualTo(event.id().toString());
    assertThat(properties.getContentType()).isEqualTo("application/json");
    assertThat(properties.getType()).isEqualTo("OrderPlaced");
    assertThat(properties.getAppId()).isEqualTo("order-service");
    assertThat(properties.getTimestamp().toInstant())
        .isEqualTo(event.createdAt().truncatedTo(ChronoUnit.SECONDS));
    assertThat(properties.getDeliveryMode()).isEqualTo(2);
    assertThat(headers(response))
        .containsEntry("cloudEvents_specversion", "1.0")
        .containsEntry("cloudEvents_id", event.id().toString())
        .containsEntry("cloudEvents_source", "order-service")
        .containsEntry("cloudEvents_type", "OrderPlaced")
        .containsEntry("cloudEvents_time", "2025-03-01T10:15:30.123456Z")
        .containsEntry("cloudEvents_subject", "order-1")
        .containsEntry("cloudEvents_eventversion", "2")
        .containsEntry("cloudEvents_aggregatetype", "Order")
        .containsEntry("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    assertThat(new String(response.getBody(), StandardCharsets.UTF_8))
        .isEqualTo("{\"orderId\":\"order-1\"}");
  }

  /**
   * Input: event headers named like CloudEvents attributes, in their case, in another and in the
   * binding's other spelling ({@code cloudEvents:}), on an unkeyed event. The attributes keep their
   * values; none of those headers is sent, so neither does the event get a subject it does not
   * have.
   */
  @Test
  void eventHeadersCannotOverwriteTheCloudEventsAttributes() throws Exception {
    BrokerFixture.Route route = broker.route("spoofed", "#");
    OutboxEvent original = event(route.exchange(), null);
    OutboxEvent event =
        new OutboxEvent(
            original.id(),
            original.sequence(),
            original.destination(),
            original.key(),
            original.aggregateType(),
            original.type(),
            original.version(),
            original.payload(),
            Map.of(
                RabbitHeaders.ID,
                "spoofed-id",
                RabbitHeaders.SOURCE,
                "someone-else",
                RabbitHeaders.TYPE,
                "SomethingElse",
                RabbitHeaders.SUBJECT,
                "forged-key",
                "CLOUDEVENTS_ID",
                "spoofed-id",
                "cloudEvents:subject",
                "forged-key"),
            original.createdAt(),
            original.attempts());

    transport.send(event).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);

    GetResponse response = broker.take(route.queue(), 1, TIMEOUT).get(0);
    assertThat(headers(response))
        .containsEntry(RabbitHeaders.ID, event.id().toString())
        .containsEntry(RabbitHeaders.SOURCE, "order-service")
        .containsEntry(RabbitHeaders.TYPE, "OrderPlaced")
        .doesNotContainKeys(RabbitHeaders.SUBJECT, "CLOUDEVENTS_ID", "cloudEvents:subject");
  }

  @Test
  void unkeyedEventHasNoSubject() throws Exception {
    BrokerFixture.Route route = broker.route("unkeyed", "#");

    transport.send(event(route.exchange(), null)).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);

    assertThat(headers(broker.take(route.queue(), 1, TIMEOUT).get(0)))
        .doesNotContainKey("cloudEvents_subject");
  }

  @Test
  void exchangeOnlyDestinationRoutesByEventType() throws Exception {
    BrokerFixture.Route route = broker.route("by-type", "OrderPlaced");

    transport.send(event(route.exchange(), "order-2")).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);

    assertThat(broker.take(route.queue(), 1, TIMEOUT).get(0).getEnvelope().getRoutingKey())
        .isEqualTo("OrderPlaced");
  }

  @Test
  void keyRoutingUsesTheEventKey() throws Exception {
    BrokerFixture.Route route = broker.route("by-key", "order-3");
    RabbitOutboxTransport byKey =
        new RabbitOutboxTransport(
            broker.connectionFactory(), options.withDefaultRoutingKey(RoutingKeySource.KEY));

    byKey.send(event(route.exchange(), "order-3")).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);

    assertThat(broker.take(route.queue(), 1, TIMEOUT).get(0).getEnvelope().getRoutingKey())
        .isEqualTo("order-3");
  }

  @Test
  void explicitRoutingKeyOverridesTheDefault() throws Exception {
    BrokerFixture.Route route = broker.route("explicit", "order.placed");

    transport
        .send(event(route.exchange() + ":order.placed", "order-4"))
        .get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);

    assertThat(broker.take(route.queue(), 1, TIMEOUT).get(0).getEnvelope().getRoutingKey())
        .isEqualTo("order.placed");
  }

  @Test
  void emptyExchangeSendsToTheNamedQueueThroughTheDefaultExchange() throws Exception {
    String queue = broker.queue("default-exchange");
    OutboxEvent event = event(":" + queue, "order-5");

    transport.send(event).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);

    assertThat(broker.take(queue, 1, TIMEOUT).get(0).getProps().getMessageId())
        .isEqualTo(event.id().toString());
  }

  @Test
  void anUnroutableMessageFailsInsteadOfSucceedingAndIsNotRetryableUnlessConfigured() {
    Throwable failure = failureOf(event(broker.unboundExchange("unroutable"), "order-6"));

    assertThat(failure)
        .isInstanceOfSatisfying(
            RabbitPublishException.class,
            ex -> {
              assertThat(ex.reason()).isEqualTo(RabbitPublishException.Reason.RETURNED);
              assertThat(ex.replyCode()).isEqualTo(312);
            })
        .hasMessageContaining("returned as unroutable")
        .hasMessageContaining("no queue is bound for it");
    assertThat(transport.isRetryable(failure)).isFalse();
    try (RabbitOutboxTransport retrying =
        new RabbitOutboxTransport(
            broker.connectionFactory(), RabbitOutboxOptions.defaults().withRetryUnroutable(true))) {
      assertThat(retrying.isRetryable(failure)).isTrue();
    }
  }

  @Test
  void messageRejectedByTheBrokerFailsRetryably() {
    String exchange = broker.unboundExchange("full");
    String full = broker.queue("full", Map.of("x-max-length", 0, "x-overflow", "reject-publish"));
    broker.channelBind(full, exchange);

    Throwable failure = failureOf(event(exchange, "order-7"));

    assertThat(failure)
        .isInstanceOfSatisfying(
            RabbitPublishException.class,
            ex -> assertThat(ex.reason()).isEqualTo(RabbitPublishException.Reason.NACKED));
    assertThat(transport.isRetryable(failure)).isTrue();
  }

  @Test
  void missingExchangeFailsRetryablyAndLaterSendsStillWork() throws Exception {
    Throwable failure = failureOf(event(TestRabbit.uniqueName("missing"), "order-8"));

    assertThat(failure)
        .isInstanceOfSatisfying(
            RabbitPublishException.class, ex -> assertThat(ex.replyCode()).isEqualTo(404));
    assertThat(transport.isRetryable(failure)).isTrue();

    BrokerFixture.Route route = broker.route("after-missing", "#");
    transport.send(event(route.exchange(), "order-9")).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    assertThat(broker.take(route.queue(), 1, TIMEOUT)).hasSize(1);
  }

  @Test
  void accessRefusedIsNotRetryable() {
    TestRabbit rabbit = TestRabbit.get();
    String vhost = rabbit.createVirtualHost("outbox-refused");
    try (BrokerFixture readOnly = new BrokerFixture(vhost)) {
      rabbit.rabbitmqctl("set_permissions", "-p", vhost, rabbit.username(), ".*", "^$", ".*");
      RabbitOutboxTransport refused =
          new RabbitOutboxTransport(
              readOnly.connectionFactory(), options.withDeadLetterExchange("amq.direct"));

      Throwable failure =
          Failures.unwrap(
              catchThrowable(
                  () ->
                      refused
                          .send(event("amq.topic", "order-10"))
                          .get(TIMEOUT.toSeconds(), TimeUnit.SECONDS)));

      assertThat(failure)
          .isInstanceOfSatisfying(
              RabbitPublishException.class,
              ex -> assertThat(ex.replyCode()).as(ex.getMessage()).isEqualTo(403));
      assertThat(refused.isRetryable(failure)).isFalse();
    } finally {
      rabbit.deleteVirtualHost(vhost);
    }
  }

  @Test
  void invalidDestinationFailsWithoutRetry() {
    Throwable failure = failureOf(event(":", "order-11"));

    assertThat(failure).isInstanceOf(RabbitPublishException.class);
    assertThat(transport.isRetryable(failure)).isFalse();
  }

  @Test
  void deadLetterNamesOriginalExchangeRoutingKeyErrorAndAttempts() throws Exception {
    OutboxEvent event = event("orders:order.placed", "order-12");

    transport
        .sendToDeadLetter(
            event, new DeadLetter("no queue bound", RabbitPublishException.class.getName(), 10))
        .get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);

    GetResponse response = broker.take(deadLetters.queue(), 1, TIMEOUT).get(0);
    assertThat(response.getEnvelope().getExchange()).isEqualTo(deadLetters.exchange());
    assertThat(response.getEnvelope().getRoutingKey()).isEqualTo("order.placed");
    assertThat(response.getProps().getMessageId()).isEqualTo(event.id().toString());
    assertThat(response.getProps().getHeaders().get(RabbitHeaders.ATTEMPTS)).isEqualTo(10);
    assertThat(headers(response))
        .containsEntry(RabbitHeaders.ORIGINAL_EXCHANGE, "orders")
        .containsEntry(RabbitHeaders.ORIGINAL_ROUTING_KEY, "order.placed")
        .containsEntry(RabbitHeaders.ORIGINAL_DESTINATION, "orders:order.placed")
        .containsEntry(RabbitHeaders.ERROR, "no queue bound")
        .containsEntry(RabbitHeaders.ERROR_CLASS, RabbitPublishException.class.getName())
        .containsEntry("cloudEvents_id", event.id().toString())
        .containsKey(RabbitHeaders.DEAD_LETTERED_AT);
  }

  @Test
  void deadLetterToAMissingDeadLetterExchangeFailsAsUnavailable() {
    RabbitOutboxTransport nowhere =
        new RabbitOutboxTransport(
            broker.connectionFactory(),
            options.withDeadLetterExchange(TestRabbit.uniqueName("no-dlx")));

    Throwable failure =
        catchThrowable(
            () ->
                nowhere
                    .sendToDeadLetter(event("orders", "order-13"), new DeadLetter("x", "y", 1))
                    .get(TIMEOUT.toSeconds(), TimeUnit.SECONDS));

    assertThat(Failures.unwrap(failure))
        .isInstanceOf(RabbitUnavailableException.class)
        .hasMessageContaining("does not exist")
        .hasCauseInstanceOf(RabbitPublishException.class);
    assertThat(nowhere.isBrokerUnavailable(failure)).isTrue();
    Throwable invalid = failureOf(nowhere, event(":", "order-14"));
    assertThat(invalid).hasCauseInstanceOf(RabbitPublishException.class);
    assertThat(nowhere.isBrokerUnavailable(invalid))
        .as("not even a final failure is dead-lettered while the exchange is missing")
        .isTrue();
  }

  @Test
  void needsNoPublisherConfirmsOnTheConnectionFactory() throws Exception {
    var factory = broker.connectionFactory();
    factory.setPublisherConfirmType(
        org.springframework.amqp.rabbit.connection.CachingConnectionFactory.ConfirmType.NONE);
    factory.setPublisherReturns(false);
    BrokerFixture.Route route = broker.route("no-confirms", "#");
    RabbitOutboxTransport plain = new RabbitOutboxTransport(factory, options);

    plain.send(event(route.exchange(), "order-14")).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    Throwable unroutable = failureOf(plain, event(broker.unboundExchange("no-confirms"), "o-15"));

    assertThat(broker.take(route.queue(), 1, TIMEOUT)).hasSize(1);
    assertThat(unroutable).isInstanceOf(RabbitPublishException.class);
  }

  private static Throwable failureOf(RabbitOutboxTransport transport, OutboxEvent event) {
    return Failures.unwrap(
        catchThrowable(() -> transport.send(event).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS)));
  }
}
