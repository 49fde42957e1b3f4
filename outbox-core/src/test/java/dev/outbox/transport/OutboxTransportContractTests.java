package dev.outbox.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.EventIds;
import dev.outbox.HeaderCapture;
import dev.outbox.OutboxEvent;
import dev.outbox.OutboxMessage;
import dev.outbox.OutboxWriter;
import dev.outbox.relay.OutboxRelay;
import dev.outbox.relay.RetryPolicy;
import dev.outbox.store.OutboxSchema;
import dev.outbox.store.PostgresOutboxRepository;
import dev.outbox.store.TableName;
import dev.outbox.test.TestPostgres;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The expectations every transport meets, run against a real broker by each transport module's
 * subclass: the same tests keep Kafka and RabbitMQ honest.
 */
public abstract class OutboxTransportContractTests {

  /** A message as a plain consumer of the broker saw it, normalized across brokers. */
  public record Received(
      String id,
      @Nullable String key,
      @Nullable String type,
      String body,
      Map<String, String> headers) {}

  /** The transport under test, connected to the real broker. */
  protected abstract OutboxTransport transport();

  /** A destination that exists (or is created) and that {@link #receive} can read. */
  protected abstract String newDestination();

  /** A destination that every send to fails for, retryably (missing topic, missing exchange). */
  protected abstract String failingDestination();

  /** Reads {@code count} messages from {@code destination} with a plain client of the broker. */
  protected abstract List<Received> receive(String destination, int count, Duration timeout);

  /** Reads {@code count} messages from the dead-letter destination of {@code event}. */
  protected abstract List<Received> receiveDeadLetters(
      OutboxEvent event, int count, Duration timeout);

  /** The header carrying the original destination on a dead letter. */
  protected abstract String originalDestinationHeader();

  /** The header carrying the attempts on a dead letter. */
  protected abstract String attemptsHeader();

  /** The header carrying the error on a dead letter. */
  protected abstract String errorHeader();

  private @Nullable String schema;

  @BeforeEach
  void createSchema() {
    schema = TestPostgres.get().createSchema("contract");
  }

  @AfterEach
  void dropSchema() {
    if (schema != null) {
      TestPostgres.get().dropSchema(schema);
    }
  }

  protected static OutboxEvent event(String destination, @Nullable String key, String json) {
    return new OutboxEvent(
        EventIds.next(),
        1,
        destination,
        key,
        "Order",
        "OrderPlaced",
        1,
        json,
        Map.of(),
        Instant.now(),
        0);
  }

  @Test
  void sendCarriesEventIdKeyTypeAndJsonBody() throws Exception {
    String destination = newDestination();
    OutboxEvent event = event(destination, "order-1", "{\"orderId\":\"order-1\",\"total\":42}");

    transport().send(event).get(30, TimeUnit.SECONDS);

    List<Received> received = receive(destination, 1, Duration.ofSeconds(30));
    assertThat(received).hasSize(1);
    Received message = received.get(0);
    assertThat(message.id()).isEqualTo(event.id().toString());
    assertThat(message.key()).isEqualTo("order-1");
    assertThat(message.type()).isEqualTo("OrderPlaced");
    assertThat(message.body()).isEqualTo("{\"orderId\":\"order-1\",\"total\":42}");
  }

  @Test
  void everyAttemptOfAnEventCarriesTheSameId() throws Exception {
    String destination = newDestination();
    OutboxEvent event = event(destination, "order-2", "{}");

    transport().send(event).get(30, TimeUnit.SECONDS);
    transport().send(event).get(30, TimeUnit.SECONDS);

    List<Received> received = receive(destination, 2, Duration.ofSeconds(30));
    assertThat(received)
        .extracting(Received::id)
        .containsExactly(event.id().toString(), event.id().toString());
  }

  @Test
  void aBatchHandedOverAtOnceIsAcknowledgedCompletelyAndInKeyOrder() throws Exception {
    String destination = newDestination();
    List<OutboxEvent> events = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      events.add(event(destination, "key-" + (i % 7), "{\"n\":" + i + "}"));
    }
    List<CompletableFuture<?>> sends = new ArrayList<>();
    for (OutboxEvent event : events) {
      sends.add(transport().send(event));
    }
    CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);

    List<Received> received = receive(destination, 300, Duration.ofSeconds(60));
    Set<String> ids = new HashSet<>();
    received.forEach(r -> ids.add(r.id()));
    assertThat(ids).hasSize(300);
    for (int k = 0; k < 7; k++) {
      String key = "key-" + k;
      List<Integer> order =
          received.stream()
              .filter(r -> key.equals(r.key()))
              .map(r -> Integer.parseInt(r.body().replaceAll("\\D", "")))
              .toList();
      assertThat(order).as("order of %s", key).isSorted();
    }
  }

  @Test
  void aSendThatCannotBeDeliveredFailsRetryably() {
    OutboxEvent event = event(failingDestination(), "order-3", "{}");

    CompletableFuture<?> send = transport().send(event);

    Throwable failure =
        org.assertj.core.api.Assertions.catchThrowable(() -> send.get(60, TimeUnit.SECONDS));
    assertThat(failure).as("the send must fail, not succeed").isNotNull();
    assertThat(transport().isRetryable(Failures.unwrap(failure))).isTrue();
  }

  @Test
  void deadLetterCarriesOriginalDestinationErrorAndAttempts() throws Exception {
    String destination = newDestination();
    OutboxEvent event = event(destination, "order-4", "{\"orderId\":\"order-4\"}");

    transport()
        .sendToDeadLetter(event, new DeadLetter("boom", "java.lang.IllegalStateException", 3))
        .get(30, TimeUnit.SECONDS);

    List<Received> dead = receiveDeadLetters(event, 1, Duration.ofSeconds(30));
    assertThat(dead).hasSize(1);
    Received message = dead.get(0);
    assertThat(message.id()).isEqualTo(event.id().toString());
    assertThat(message.body()).isEqualTo("{\"orderId\":\"order-4\"}");
    assertThat(message.headers())
        .containsEntry(originalDestinationHeader(), destination)
        .containsEntry(attemptsHeader(), "3");
    assertThat(message.headers().get(errorHeader())).contains("boom");
  }

  @Test
  void relayRetriesAFailingDestinationThenMarksItDeadAndDeadLetters() throws Exception {
    TableName table = TableName.of(schema, "outbox_event");
    OutboxSchema.create(TestPostgres.get().dataSource(), table);
    PostgresOutboxRepository repository =
        new PostgresOutboxRepository(TestPostgres.get().dataSource(), table);
    OutboxWriter writer =
        new OutboxWriter(repository, Object::toString, HeaderCapture.none(), Clock.systemUTC());
    String failing = failingDestination();
    UUID id;
    try (Connection connection = TestPostgres.get().connect()) {
      id = writer.write(connection, List.of(OutboxMessage.of(failing, "order-5", "{}"))).get(0);
    }

    try (OutboxRelay relay =
        OutboxRelay.builder()
            .repository(repository)
            .transport(transport())
            .retryPolicy(
                RetryPolicy.defaults()
                    .withMaxAttempts(2)
                    .withInitialBackoff(Duration.ofMillis(50))
                    .withMaxBackoff(Duration.ofMillis(100)))
            .pollInterval(Duration.ofMillis(50))
            .publishTimeout(Duration.ofSeconds(20))
            .build()) {
      relay.start();
      await().atMost(Duration.ofSeconds(90)).until(() -> repository.findDead(10).size() == 1);
    }

    var dead = repository.findDead(10).get(0);
    assertThat(dead.event().id()).isEqualTo(id);
    assertThat(dead.event().attempts()).isEqualTo(2);
    assertThat(dead.lastError()).isNotBlank();
    List<Received> deadLetters = receiveDeadLetters(dead.event(), 1, Duration.ofSeconds(30));
    assertThat(deadLetters).extracting(Received::id).containsExactly(id.toString());
    assertThat(deadLetters.get(0).headers()).containsEntry(attemptsHeader(), "2");
  }
}
