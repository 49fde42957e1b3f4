package dev.outbox.rabbit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.GetResponse;
import dev.outbox.HeaderCapture;
import dev.outbox.OutboxEvent;
import dev.outbox.OutboxMessage;
import dev.outbox.OutboxWriter;
import dev.outbox.relay.OutboxRelay;
import dev.outbox.relay.RelayListener;
import dev.outbox.relay.RetryPolicy;
import dev.outbox.store.OutboxRepository;
import dev.outbox.store.OutboxSchema;
import dev.outbox.store.PostgresOutboxRepository;
import dev.outbox.store.TableName;
import dev.outbox.test.TcpProxy;
import dev.outbox.test.TestPostgres;
import dev.outbox.test.TestRabbit;
import dev.outbox.transport.ForwardingOutboxTransport;
import dev.outbox.transport.OutboxTransport;
import dev.outbox.transport.PublishTimeoutException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The core relay with the PostgreSQL store publishing through the RabbitMQ transport, against the
 * real broker: retries, dead letters, connection loss and a large batch.
 */
class RabbitOutboxRelayIntegrationTests {

  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  /** A payload; its type name is {@code OrderPlaced}. */
  record OrderPlaced(String orderId, int n) {}

  private String schema;
  private PostgresOutboxRepository repository;
  private OutboxWriter writer;
  private final Counting listener = new Counting();

  @BeforeEach
  void createTable() {
    schema = TestPostgres.get().createSchema("rabbit_relay");
    TableName table = TableName.of(schema, "outbox_event");
    OutboxSchema.create(TestPostgres.get().dataSource(), table);
    repository = new PostgresOutboxRepository(TestPostgres.get().dataSource(), table);
    writer =
        new OutboxWriter(
            repository,
            payload -> {
              OrderPlaced order = (OrderPlaced) payload;
              return "{\"orderId\":\"" + order.orderId() + "\",\"n\":" + order.n() + "}";
            },
            HeaderCapture.none(),
            Clock.systemUTC());
  }

  @AfterEach
  void dropTable() {
    TestPostgres.get().dropSchema(schema);
  }

  /** Writes {@code count} events, committing every 500; returns their ids in write order. */
  private List<UUID> write(String destination, int count, int keys) throws Exception {
    List<UUID> ids = new ArrayList<>();
    try (Connection connection = TestPostgres.get().connect()) {
      List<OutboxMessage> chunk = new ArrayList<>();
      for (int n = 0; n < count; n++) {
        String key = keys == 0 ? null : "order-" + (n % keys);
        chunk.add(OutboxMessage.of(destination, key, new OrderPlaced("order-" + n, n)));
        if (chunk.size() == 500 || n == count - 1) {
          ids.addAll(writer.write(connection, chunk));
          chunk.clear();
        }
      }
    }
    return ids;
  }

  private OutboxRelay relay(RabbitOutboxTransport transport, RetryPolicy retryPolicy) {
    return relay(transport, retryPolicy, Duration.ofSeconds(30));
  }

  private OutboxRelay relay(
      OutboxTransport transport, RetryPolicy retryPolicy, Duration publishTimeout) {
    return OutboxRelay.builder()
        .repository(repository)
        .transport(transport)
        .retryPolicy(retryPolicy)
        .pollInterval(Duration.ofMillis(50))
        .publishTimeout(publishTimeout)
        .maxErrorBackoff(Duration.ofMillis(500))
        .listener(listener)
        .build();
  }

  private static RetryPolicy quickRetries(int maxAttempts) {
    return RetryPolicy.defaults()
        .withMaxAttempts(maxAttempts)
        .withInitialBackoff(Duration.ofMillis(50))
        .withMaxBackoff(Duration.ofMillis(200));
  }

  private void awaitDrained() {
    await()
        .atMost(TIMEOUT)
        .untilAsserted(
            () -> {
              OutboxRepository.Stats stats = repository.stats();
              assertThat(stats.pending()).isZero();
              assertThat(stats.dead()).isZero();
            });
  }

  private static List<String> ids(List<GetResponse> responses) {
    return responses.stream().map(response -> response.getProps().getMessageId()).toList();
  }

  /**
   * An event no queue is bound for (the exchange exists, nothing takes its routing key) is returned
   * by the broker: not retryable by default, so it is dead at its first attempt although the retry
   * policy allows ten, dead-lettered with its payload, and kept in the table.
   */
  @Test
  void anUnroutableEventIsDeadLetteredAtItsFirstAttemptAndStaysQueryable() throws Exception {
    try (BrokerFixture broker = new BrokerFixture()) {
      BrokerFixture.Route deadLetters = broker.route("relay-dlx", "#");
      String unroutable = broker.unboundExchange("relay-unroutable");
      RabbitOutboxTransport transport =
          new RabbitOutboxTransport(
              broker.connectionFactory(),
              RabbitOutboxOptions.defaults().withDeadLetterExchange(deadLetters.exchange()));
      UUID id = write(unroutable + ":order.placed", 1, 1).get(0);

      try (OutboxRelay relay = relay(transport, quickRetries(10))) {
        relay.start();
        await().atMost(TIMEOUT).until(() -> repository.stats().dead() == 1);
      }

      OutboxRepository.DeadEvent dead = repository.findDead(10).get(0);
      assertThat(dead.event().id()).isEqualTo(id);
      assertThat(dead.event().attempts()).isEqualTo(1);
      assertThat(dead.lastError())
          .contains("returned as unroutable", "NO_ROUTE")
          .doesNotContain("dead-letter send failed");
      assertThat(listener.retried).hasValue(0);
      GetResponse letter = broker.take(deadLetters.queue(), 1, TIMEOUT).get(0);
      assertThat(letter.getProps().getMessageId()).isEqualTo(id.toString());
      assertThat(letter.getEnvelope().getRoutingKey()).isEqualTo("order.placed");
      Map<String, Object> headers = letter.getProps().getHeaders();
      assertThat(headers.get(RabbitHeaders.ATTEMPTS)).isEqualTo(1);
      assertThat(headers.get(RabbitHeaders.ORIGINAL_EXCHANGE).toString()).isEqualTo(unroutable);
      assertThat(headers.get(RabbitHeaders.ORIGINAL_ROUTING_KEY).toString())
          .isEqualTo("order.placed");
      assertThat(headers.get(RabbitHeaders.ERROR_CLASS).toString())
          .isEqualTo(RabbitPublishException.class.getName());
      assertThat(new String(letter.getBody(), StandardCharsets.UTF_8))
          .isEqualTo("{\"orderId\":\"order-0\",\"n\":0}");
    }
  }

  @Test
  void withRetryUnroutableAnUnroutableEventIsRetriedThenDeadLetteredAndStaysQueryable()
      throws Exception {
    try (BrokerFixture broker = new BrokerFixture()) {
      BrokerFixture.Route deadLetters = broker.route("relay-dlx", "#");
      String unroutable = broker.unboundExchange("relay-unroutable");
      RabbitOutboxTransport transport =
          new RabbitOutboxTransport(
              broker.connectionFactory(),
              RabbitOutboxOptions.defaults()
                  .withDeadLetterExchange(deadLetters.exchange())
                  .withRetryUnroutable(true));
      UUID id = write(unroutable + ":order.placed", 1, 1).get(0);

      try (OutboxRelay relay = relay(transport, quickRetries(3))) {
        relay.start();
        await().atMost(TIMEOUT).until(() -> repository.stats().dead() == 1);
      }

      OutboxRepository.DeadEvent dead = repository.findDead(10).get(0);
      assertThat(dead.event().id()).isEqualTo(id);
      assertThat(dead.event().attempts()).isEqualTo(3);
      assertThat(dead.lastError()).contains("unroutable").doesNotContain("dead-letter send failed");
      assertThat(listener.retried).hasValue(2);
      GetResponse letter = broker.take(deadLetters.queue(), 1, TIMEOUT).get(0);
      assertThat(letter.getProps().getMessageId()).isEqualTo(id.toString());
      assertThat(letter.getProps().getHeaders().get(RabbitHeaders.ATTEMPTS)).isEqualTo(3);
    }
  }

  @Test
  void withRetryUnroutableAnUnroutableEventIsPublishedOnceAQueueIsBound() throws Exception {
    try (BrokerFixture broker = new BrokerFixture()) {
      String exchange = broker.unboundExchange("relay-late-binding");
      RabbitOutboxTransport transport =
          new RabbitOutboxTransport(
              broker.connectionFactory(), withDeadLetters(broker).withRetryUnroutable(true));
      UUID id = write(exchange, 1, 1).get(0);

      try (OutboxRelay relay = relay(transport, quickRetries(1000))) {
        relay.start();
        await().atMost(TIMEOUT).until(() -> listener.retried.get() >= 1);
        String queue = broker.queue("relay-late-binding");
        broker.channelBind(queue, exchange);
        awaitDrained();
        assertThat(ids(broker.take(queue, 1, TIMEOUT))).containsExactly(id.toString());
      }
    }
  }

  @Test
  void aThousandEventsThroughTheRelayAllArriveInKeyOrder() throws Exception {
    try (BrokerFixture broker = new BrokerFixture()) {
      BrokerFixture.Route route = broker.route("relay-batch", "#");
      RabbitOutboxTransport transport =
          new RabbitOutboxTransport(broker.connectionFactory(), withDeadLetters(broker));
      List<UUID> written = write(route.exchange(), 1000, 50);

      try (OutboxRelay relay = relay(transport, quickRetries(10))) {
        relay.start();
        awaitDrained();
      }

      List<GetResponse> received = broker.take(route.queue(), 1000, TIMEOUT);
      assertThat(ids(received))
          .hasSize(1000)
          .containsExactlyInAnyOrderElementsOf(written.stream().map(UUID::toString).toList());
      assertThat(listener.published).hasValue(1000);
      assertEachKeyInWriteOrder(received, 50);
    }
  }

  @Test
  void connectionLostBeforeConfirmsRepublishesThePendingSendsWithTheSameIdsWithoutCharge()
      throws Exception {
    try (ThroughProxy via = ThroughProxy.open("relay-proxy")) {
      via.proxy().holdReplies();
      List<UUID> written = write(via.route().exchange(), 200, 0);

      try (OutboxRelay relay = relay(via.transport(), quickRetries(10))) {
        relay.start();
        await().atMost(TIMEOUT).until(() -> via.broker().depth(via.route().queue()) == 200);
        assertThat(repository.stats().pending())
            .as("nothing is complete while the confirms are held back")
            .isEqualTo(200);

        via.proxy().cutConnections();

        awaitDrained();
      }

      List<String> received = ids(via.broker().drain(via.route().queue()));
      Map<String, Long> copies =
          received.stream().collect(Collectors.groupingBy(id -> id, Collectors.counting()));
      assertThat(copies.keySet())
          .containsExactlyInAnyOrderElementsOf(written.stream().map(UUID::toString).toList());
      assertThat(copies.values()).as("each event delivered, then redelivered").containsOnly(2L);
      assertThat(listener.retried).as("a lost connection is no event's fault").hasValue(0);
    }
  }

  /**
   * The broker goes away for several of the relay's cycles (connections cut, new ones closed at
   * once, as a stopped broker's would be) while events are pending: the relay charges no attempt
   * (two would dead-letter them), dead-letters nothing and reports itself unhealthy; once the
   * broker is back, every event arrives with its id, each key's events in write order, and the
   * relay is healthy again.
   */
  @Test
  void aBrokerDownForSeveralCyclesChargesNothingAndEverythingArrivesWhenItIsBack()
      throws Exception {
    try (ThroughProxy via = ThroughProxy.open("relay-down")) {
      via.proxy().goDown();
      List<UUID> written = write(via.route().exchange(), 300, 10);

      try (OutboxRelay relay = relay(via.transport(), quickRetries(2))) {
        relay.start();
        await().atMost(TIMEOUT).until(() -> listener.cyclesFailed.get() >= 3);
        assertThat(relay.isHealthy()).isFalse();
        assertThat(repository.stats().pending()).isEqualTo(300);
        assertThat(repository.stats().dead()).isZero();
        assertThat(maxAttempts()).as("a broker that is away uses up no attempts").isZero();

        via.proxy().comeBack();

        awaitDrained();
        await().atMost(TIMEOUT).until(relay::isHealthy);
      }

      List<GetResponse> received = via.broker().drain(via.route().queue());
      assertThat(new HashSet<>(ids(received)))
          .containsExactlyInAnyOrderElementsOf(written.stream().map(UUID::toString).toList());
      assertEachKeyInWriteOrder(received, 10);
      assertThat(listener.retried).as("a broker that is away is no event's fault").hasValue(0);
    }
  }

  /**
   * The broker stops answering for several publish timeouts before the relay starts: its connection
   * stays open and takes what is written, but nothing comes back, as with a broker process stopped
   * by SIGSTOP or a network that drops packets. A broker that has answered nothing since an event
   * was sent is unavailable, like one that refuses connections: the relay charges no attempt (two
   * would make the events DEAD, and their dead letters could not be sent either), dead-letters
   * nothing and reports itself unhealthy. Once the broker answers again, every event arrives with
   * its id, each key's events in write order.
   */
  @Test
  void aBrokerThatStopsAnsweringChargesNothingAndEverythingArrivesWhenItAnswersAgain()
      throws Exception {
    try (ThroughProxy via = ThroughProxy.open("relay-frozen")) {
      via.proxy().freeze();
      List<UUID> written = write(via.route().exchange(), 300, 10);

      try (OutboxRelay relay = relay(via.transport(), quickRetries(2), Duration.ofSeconds(1))) {
        relay.start();
        awaitFailedCyclesOrDeadEvents(3);
        assertThat(listener.retried)
            .as("a broker that answers nothing is no event's fault")
            .hasValue(0);
        assertThat(relay.isHealthy()).isFalse();
        assertThat(repository.stats().dead()).isZero();
        assertThat(maxAttempts()).as("a broker that answers nothing uses up no attempts").isZero();
      }

      drainAfterThawing(via, written, 10);
    }
  }

  /**
   * The broker stops answering in the middle of a drain, with events of many keys in flight: an
   * event sent before the broker's last answer is charged once (the broker was answering when it
   * went out), every later try of it is not, however long the broker stays silent, so nothing is
   * dead-lettered; once the broker answers again every event arrives, each key's in write order.
   */
  @Test
  void aBrokerThatStopsAnsweringMidDrainChargesAnEventAtMostOnce() throws Exception {
    try (ThroughProxy via = ThroughProxy.open("relay-frozen-mid")) {
      List<UUID> written = write(via.route().exchange(), 8000, 200);
      // The 300th send: the first event of each of the 200 keys went out, about 100 of them were
      // confirmed and their keys' next events sent; the others are still waiting, sent before the
      // broker's last answer.
      OutboxTransport freezingAtTheSend300 =
          new ForwardingOutboxTransport(via.transport()) {
            final AtomicInteger sends = new AtomicInteger();

            @Override
            public CompletableFuture<?> send(OutboxEvent event) {
              if (sends.incrementAndGet() == 300) {
                via.proxy().freeze();
              }
              return super.send(event);
            }
          };

      try (OutboxRelay relay =
          relay(freezingAtTheSend300, quickRetries(3), Duration.ofSeconds(1))) {
        relay.start();
        awaitFailedCyclesOrDeadEvents(4);
        assertThat(repository.stats().pending()).as("frozen mid-drain").isGreaterThan(1000);
        assertThat(repository.stats().dead()).as("nothing dead-lettered").isZero();
        assertThat(maxAttempts()).as("an event charged once at most").isLessThanOrEqualTo(1);
        assertThat(relay.isHealthy()).isFalse();
      }

      drainAfterThawing(via, written, 200);
    }
  }

  /**
   * Awaits {@code cycles} failed relay cycles, or a dead event (which the caller's test rules out).
   */
  private void awaitFailedCyclesOrDeadEvents(int cycles) {
    await()
        .atMost(TIMEOUT)
        .until(() -> listener.cyclesFailed.get() >= cycles || repository.stats().dead() > 0);
  }

  private long maxAttempts() {
    return TestPostgres.get()
        .queryLong("SELECT coalesce(max(attempts), 0) FROM " + schema + ".outbox_event");
  }

  /**
   * Lets the broker answer again and drains the table with a new relay whose publish timeout no
   * confirm misses; then every written event has arrived, each key's in write order.
   */
  private void drainAfterThawing(ThroughProxy via, List<UUID> written, int keys) throws Exception {
    via.proxy().thaw();
    try (OutboxRelay relay = relay(via.transport(), quickRetries(10))) {
      relay.start();
      awaitDrained();
      await().atMost(TIMEOUT).until(relay::isHealthy);
    }
    List<GetResponse> received = via.broker().drain(via.route().queue());
    assertThat(new HashSet<>(ids(received)))
        .containsExactlyInAnyOrderElementsOf(written.stream().map(UUID::toString).toList());
    assertEachKeyInWriteOrder(received, keys);
  }

  /**
   * The relay's timeout is the broker's failure only if the broker has answered nothing since the
   * event was sent: a timeout without its send time, or with the broker answering since, is the
   * event's own (charged).
   */
  @Test
  void aRelayTimeoutIsTheBrokersFailureOnlyIfTheBrokerAnsweredNothingSinceTheSend()
      throws Exception {
    try (ThroughProxy via = ThroughProxy.open("timeout-class")) {
      RabbitOutboxTransport transport = via.transport();
      long beforeAnswer = System.nanoTime();
      transport.send(warmUp(via.route().exchange())).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      assertThat(transport.isBrokerUnavailable(timeoutOfASendAt(beforeAnswer)))
          .as("the broker answered since")
          .isFalse();

      via.proxy().freeze();
      long sent = System.nanoTime();
      CompletableFuture<?> waiting = transport.send(warmUp(via.route().exchange()));
      assertThat(transport.isBrokerUnavailable(timeoutOfASendAt(sent)))
          .as("no answer since the send")
          .isTrue();
      assertThat(transport.isBrokerUnavailable(new TimeoutException("no send time")))
          .as("a timeout without its send time")
          .isFalse();

      via.proxy().thaw();
      waiting.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      assertThat(transport.isBrokerUnavailable(timeoutOfASendAt(sent)))
          .as("the broker answered again")
          .isFalse();
    }
  }

  private static PublishTimeoutException timeoutOfASendAt(long sentNanos) {
    return new PublishTimeoutException(
        "no acknowledgement from the broker within 1000 ms", sentNanos);
  }

  @Test
  void brokerClosingTheConnectionMidBatchLosesNothing() throws Exception {
    TestRabbit rabbit = TestRabbit.get();
    String vhost = rabbit.createVirtualHost("outbox-drop");
    try (ThroughProxy via = ThroughProxy.open(vhost, "relay-drop")) {
      via.proxy().holdReplies();
      List<UUID> written = write(via.route().exchange(), 2000, 20);

      try (OutboxRelay relay = relay(via.transport(), quickRetries(10))) {
        relay.start();
        // The first event of each of the 20 keys is out; the rest of the batch waits for acks,
        // which were dropped. The broker's own close must reach the client, so pass it through.
        await().atMost(TIMEOUT).until(() -> via.broker().depth(via.route().queue()) == 20);
        via.proxy().passReplies();

        rabbit.closeConnections(vhost, "outbox connection-loss test");

        awaitDrained();
      }

      List<String> received = ids(via.broker().drain(via.route().queue()));
      assertThat(new HashSet<>(received))
          .containsExactlyInAnyOrderElementsOf(written.stream().map(UUID::toString).toList());
      assertThat(received).hasSize(2020);
      assertThat(listener.retried).as("a closed connection is no event's fault").hasValue(0);
    } finally {
      rabbit.deleteVirtualHost(vhost);
    }
  }

  /**
   * A broker fixture, a proxy in front of the broker and a transport reaching it through the proxy,
   * its connection opened by one send; {@code route} is an exchange with a queue bound for every
   * routing key.
   */
  private record ThroughProxy(
      BrokerFixture broker,
      TcpProxy proxy,
      BrokerFixture.Route route,
      RabbitOutboxTransport transport)
      implements AutoCloseable {

    static ThroughProxy open(String routeName) throws Exception {
      return open(new BrokerFixture(), routeName);
    }

    static ThroughProxy open(String virtualHost, String routeName) throws Exception {
      return open(new BrokerFixture(virtualHost), routeName);
    }

    private static ThroughProxy open(BrokerFixture broker, String routeName) throws Exception {
      TestRabbit rabbit = TestRabbit.get();
      TcpProxy proxy = new TcpProxy(rabbit.host(), rabbit.port());
      BrokerFixture.Route route = broker.route(routeName, "#");
      RabbitOutboxTransport transport =
          new RabbitOutboxTransport(
              broker.connectionFactory("127.0.0.1", proxy.port()), withDeadLetters(broker));
      ThroughProxy via = new ThroughProxy(broker, proxy, route, transport);
      try {
        transport.send(warmUp(route.exchange())).get(30, TimeUnit.SECONDS);
        broker.take(route.queue(), 1, TIMEOUT);
      } catch (Exception | AssertionError ex) {
        via.close();
        throw ex;
      }
      return via;
    }

    @Override
    public void close() throws Exception {
      try (BrokerFixture closingBroker = broker) {
        proxy.close();
      }
    }
  }

  /**
   * Each of the {@code keys} keys' events, first copies only (consumers drop a copy by its id),
   * arrived in write order: their numbers grow.
   */
  private static void assertEachKeyInWriteOrder(List<GetResponse> received, int keys) {
    Map<String, List<Integer>> orderOfKey = new HashMap<>();
    Set<String> seen = new HashSet<>();
    for (GetResponse response : received) {
      if (!seen.add(response.getProps().getMessageId())) {
        continue;
      }
      String key = response.getProps().getHeaders().get(RabbitHeaders.SUBJECT).toString();
      String body = new String(response.getBody(), StandardCharsets.UTF_8);
      int n = Integer.parseInt(body.replaceAll(".*\"n\":(\\d+).*", "$1"));
      orderOfKey.computeIfAbsent(key, k -> new ArrayList<>()).add(n);
    }
    assertThat(orderOfKey).hasSize(keys);
    orderOfKey.forEach((key, order) -> assertThat(order).as("order of %s", key).isSorted());
  }

  /** Default options with a dead-letter exchange that exists (a queue bound to it). */
  private static RabbitOutboxOptions withDeadLetters(BrokerFixture broker) {
    return RabbitOutboxOptions.defaults()
        .withDeadLetterExchange(broker.route("relay-dlx", "#").exchange());
  }

  private static OutboxEvent warmUp(String destination) {
    return new OutboxEvent(
        UUID.randomUUID(),
        0,
        destination,
        null,
        null,
        "WarmUp",
        1,
        "{}",
        Map.of(),
        Instant.now(),
        0);
  }

  /** Counts what the relay reports. */
  static final class Counting implements RelayListener {
    final AtomicInteger published = new AtomicInteger();
    final AtomicInteger retried = new AtomicInteger();
    final AtomicInteger cyclesFailed = new AtomicInteger();

    @Override
    public void cycleFailed(Throwable failure) {
      cyclesFailed.incrementAndGet();
    }

    @Override
    public void published(OutboxEvent event, Duration sinceWrite) {
      published.incrementAndGet();
    }

    @Override
    public void retried(OutboxEvent event, Throwable failure) {
      retried.incrementAndGet();
    }
  }
}
