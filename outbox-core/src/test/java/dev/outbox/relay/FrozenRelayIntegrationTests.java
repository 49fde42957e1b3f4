package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.HeaderCapture;
import dev.outbox.OutboxEvent;
import dev.outbox.OutboxMessage;
import dev.outbox.OutboxWriter;
import dev.outbox.store.OutboxRepository;
import dev.outbox.store.OutboxSchema;
import dev.outbox.store.PostgresOutboxRepository;
import dev.outbox.store.RelayStore.Completion;
import dev.outbox.store.RelayStore.Dead;
import dev.outbox.store.RelayStore.Loaded;
import dev.outbox.store.RelayStore.Prefetched;
import dev.outbox.store.RelayStore.Retry;
import dev.outbox.store.TableName;
import dev.outbox.test.LogCapture;
import dev.outbox.test.TestPostgres;
import dev.outbox.transport.DeadLetter;
import dev.outbox.transport.OutboxTransport;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A relay frozen (as by SIGSTOP: every thread stops, the monotonic clock runs on, its database
 * session stays open) for longer than its lease, while a second relay takes its slots over, then
 * resumed in the middle of a batch. Against the real table: whatever the resumed relay does with
 * its stale batch touches no row, and consumers that de-duplicate by id see every key in write
 * order.
 *
 * <p>The freeze is deterministic: a gate that every call of the frozen relay into the store passes
 * through, closed at a chosen point of its batch (inside a send, or right after loading the
 * payloads).
 */
class FrozenRelayIntegrationTests {

  private static final Duration WAIT = Duration.ofSeconds(60);

  private final String schema = TestPostgres.get().createSchema("frozen");
  private final TableName table = TableName.of(schema, "outbox_event");
  private final Broker broker = new Broker();
  private final Gate gate = new Gate();
  private PostgresOutboxRepository repository;
  private OutboxWriter writer;
  private OutboxRelay frozen;
  private OutboxRelay successor;
  private final LogCapture batchLog = LogCapture.of(BatchPublisher.class);

  @BeforeEach
  void setUp() {
    OutboxSchema.create(TestPostgres.get().dataSource(), table);
    repository = new PostgresOutboxRepository(TestPostgres.get().dataSource(), table);
    writer =
        new OutboxWriter(repository, Object::toString, HeaderCapture.none(), Clock.systemUTC());
  }

  @AfterEach
  void tearDown() {
    batchLog.close();
    gate.release();
    if (frozen != null) {
      frozen.close();
    }
    if (successor != null) {
      successor.close();
    }
    TestPostgres.get().dropSchema(schema);
  }

  /** Three events of key {@code k} and one of each of a few other keys; ids in write order. */
  private List<UUID> writeEvents() throws Exception {
    List<OutboxMessage> messages = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      messages.add(OutboxMessage.of("orders", "k", "{\"n\":" + i + "}"));
    }
    for (int i = 1; i <= 4; i++) {
      messages.add(OutboxMessage.of("orders", "other-" + i, "{\"n\":" + i + "}"));
    }
    try (Connection connection = TestPostgres.get().connect()) {
      return writer.write(connection, messages);
    }
  }

  @Test
  void aRelayResumedInsideASendCompletesNothingItNoLongerOwnsAndKeepsKeyOrder() throws Exception {
    List<UUID> ids = writeEvents();
    UUID first = ids.get(0);
    Relay a = new Relay("frozen", event -> event.id().equals(first), null);
    startFrozenRelay(a);
    a.frozenInSend.await(WAIT.toSeconds(), TimeUnit.SECONDS);

    Relay b = startSuccessorFailing(first);
    awaitSuccessorOwnsEverySlotAndTried(first);

    gate.release();
    frozen.close();
    List<Outcome> stale = a.repository.staleCompletions;
    assertThat(stale).as("the stale batch recorded its outcome").hasSize(1);
    assertThat(stale.get(0).published()).containsExactly(first);
    assertThat(stale.get(0).completion().total()).as("rows touched by the stale owner").isZero();
    assertThat(batchLog.warnings("lost the lease"))
        .singleElement()
        .asString()
        .startsWith("WARN Outbox relay lost the lease of some of the ")
        .contains(
            " slot(s) of a batch to another instance: 1 of 1 outcome(s) not recorded; those events"
                + " stay pending and are published again by the slots' new owner (same ids)");
    assertThat(a.transport.staleSends())
        .as("after the ack of its in-flight send, the stale batch sends nothing more")
        .containsExactly(first);
    assertThat(status(first))
        .as("still the successor's, with its failed attempts")
        .isEqualTo("PENDING");

    b.failing.clear();
    awaitEverythingPublished(ids);
    assertFirstCopiesInWriteOrder(ids);
    assertThat(broker.received.stream().filter(e -> e.id().equals(first)))
        .as("the stale copy and the successor's")
        .hasSize(2);
  }

  @Test
  void aRelayResumedAfterLoadingSendsNothingOfItsStaleBatch() throws Exception {
    List<UUID> ids = writeEvents();
    UUID first = ids.get(0);
    Relay a = new Relay("frozen", event -> false, first);
    startFrozenRelay(a);
    a.repository.frozenAfterLoad.await(WAIT.toSeconds(), TimeUnit.SECONDS);

    Relay b = startSuccessorFailing(first);
    awaitSuccessorOwnsEverySlotAndTried(first);

    gate.release();
    frozen.close();
    assertThat(a.transport.staleSends()).as("stale payloads are not sent").isEmpty();
    assertThat(a.repository.staleCompletions)
        .allSatisfy(outcome -> assertThat(outcome.completion().total()).isZero());

    b.failing.clear();
    awaitEverythingPublished(ids);
    assertFirstCopiesInWriteOrder(ids);
  }

  @Test
  void aRelayResumedWithAFinalFailureSendsNoDeadLetterForAnEventItNoLongerOwns() throws Exception {
    List<UUID> ids = writeEvents();
    UUID first = ids.get(0);
    Relay a = new Relay("frozen", event -> event.id().equals(first), null);
    a.transport.failAfterRelease = new ScriptedTransport.Fatal("record too large");
    startFrozenRelay(a);
    a.frozenInSend.await(WAIT.toSeconds(), TimeUnit.SECONDS);

    Relay b = startSuccessorFailing(first);
    awaitSuccessorOwnsEverySlotAndTried(first);

    gate.release();
    frozen.close();
    assertThat(a.transport.deadLetters).as("dead letters of the stale owner").isEmpty();
    assertThat(batchLog.warnings("not dead-lettered"))
        .singleElement()
        .asString()
        .startsWith(
            "WARN Publishing event "
                + first
                + " to orders failed (attempt 1, not retryable); not dead-lettered, since this"
                + " relay no longer knows it holds the event's slot: left pending for the slot's"
                + " owner: ");
    assertThat(a.repository.staleCompletions)
        .allSatisfy(outcome -> assertThat(outcome.completion().total()).isZero());
    assertThat(status(first)).isEqualTo("PENDING");

    b.failing.clear();
    awaitEverythingPublished(ids);
    assertThat(b.transport.deadLetters).isEmpty();
    assertThat(repository.findDead(10)).isEmpty();
  }

  private void startFrozenRelay(Relay a) {
    frozen =
        OutboxRelay.builder()
            .name("relay-a")
            .repository(a.repository.proxy())
            .transport(a.transport)
            .workers(1)
            .pollInterval(Duration.ofMillis(100))
            .leaseTimeout(Duration.ofMillis(500))
            .publishTimeout(Duration.ofSeconds(30))
            .build();
    frozen.start();
  }

  /** The second relay: fails {@code id} (retryably) until {@code failing} is cleared. */
  private Relay startSuccessorFailing(UUID id) {
    Relay b = new Relay("successor", event -> false, null);
    b.failing.add(id);
    successor =
        OutboxRelay.builder()
            .name("relay-b")
            .repository(b.repository.proxy())
            .transport(b.transport)
            .pollInterval(Duration.ofMillis(100))
            .retryPolicy(
                RetryPolicy.defaults()
                    .withMaxAttempts(1000)
                    .withInitialBackoff(Duration.ofMillis(100))
                    .withMaxBackoff(Duration.ofMillis(100))
                    .withJitter(0))
            .build();
    successor.start();
    return b;
  }

  private void awaitSuccessorOwnsEverySlotAndTried(UUID id) {
    await()
        .atMost(WAIT)
        .until(
            () ->
                TestPostgres.get()
                        .queryLong(
                            "SELECT count(*) FROM " + table + "_slot WHERE owner LIKE 'relay-b-%'")
                    == 64);
    await()
        .atMost(WAIT)
        .until(
            () ->
                TestPostgres.get()
                        .queryLong("SELECT attempts FROM " + table + " WHERE id = '" + id + "'")
                    >= 1);
  }

  private void awaitEverythingPublished(List<UUID> ids) {
    await()
        .atMost(WAIT)
        .until(() -> TestPostgres.get().queryLong("SELECT count(*) FROM " + table) == 0);
    assertThat(broker.firstCopies()).containsExactlyInAnyOrderElementsOf(ids);
  }

  /** What a consumer that drops ids it has seen gets, per key: the key's write order. */
  private void assertFirstCopiesInWriteOrder(List<UUID> ids) {
    Map<String, List<UUID>> written = new LinkedHashMap<>();
    Map<UUID, String> keyOf = new LinkedHashMap<>();
    for (OutboxEvent event : broker.received) {
      keyOf.put(event.id(), event.key());
    }
    for (UUID id : ids) {
      written.computeIfAbsent(keyOf.get(id), k -> new ArrayList<>()).add(id);
    }
    Map<String, List<UUID>> seen = new LinkedHashMap<>();
    for (UUID id : broker.firstCopies()) {
      seen.computeIfAbsent(keyOf.get(id), k -> new ArrayList<>()).add(id);
    }
    assertThat(seen).isEqualTo(written);
  }

  private String status(UUID id) {
    try (Connection connection = TestPostgres.get().connect();
        var statement =
            connection.prepareStatement("SELECT status FROM " + table + " WHERE id = ?")) {
      statement.setObject(1, id);
      try (var rs = statement.executeQuery()) {
        return rs.next() ? rs.getString(1) : "deleted";
      }
    } catch (Exception ex) {
      throw new IllegalStateException(ex);
    }
  }

  /** Where the messages of both relays arrive, in arrival order. */
  private static final class Broker {
    final List<OutboxEvent> received = new CopyOnWriteArrayList<>();

    List<UUID> firstCopies() {
      Set<UUID> seen = new LinkedHashSet<>();
      for (OutboxEvent event : received) {
        seen.add(event.id());
      }
      return List.copyOf(seen);
    }
  }

  /**
   * Frozen or not; a frozen relay's calls wait until it is released. After the release, the batch
   * that was frozen is stale until the relay starts its next batch (reads candidates again).
   */
  private static final class Gate {
    private final CountDownLatch released = new CountDownLatch(1);
    private volatile boolean closed;
    private volatile boolean nextBatchStarted;

    boolean inStaleBatch() {
      return isReleased() && !nextBatchStarted;
    }

    void close() {
      closed = true;
    }

    void release() {
      released.countDown();
    }

    boolean isReleased() {
      return released.getCount() == 0;
    }

    void pass() {
      if (!closed) {
        return;
      }
      try {
        if (!released.await(WAIT.toSeconds(), TimeUnit.SECONDS)) {
          throw new IllegalStateException("not released within " + WAIT);
        }
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(ex);
      }
    }
  }

  record Outcome(List<UUID> published, Completion completion) {}

  /** One relay's store and transport; the frozen one's go through the gate. */
  private final class Relay {
    final GatedRepository repository;
    final GatedTransport transport;
    final CountDownLatch frozenInSend = new CountDownLatch(1);
    final Set<UUID> failing = java.util.concurrent.ConcurrentHashMap.newKeySet();

    Relay(String name, Predicate<OutboxEvent> freezeInSend, UUID freezeAfterLoading) {
      boolean gated = name.equals("frozen");
      this.repository = new GatedRepository(gated ? gate : new Gate(), freezeAfterLoading);
      this.transport =
          new GatedTransport(gated ? gate : new Gate(), freezeInSend, frozenInSend, failing);
    }
  }

  /** The real repository, behind the gate; records the completions made after the release. */
  private final class GatedRepository {
    final Gate gate;
    final UUID freezeAfterLoading;
    final CountDownLatch frozenAfterLoad = new CountDownLatch(1);
    final List<Outcome> staleCompletions = new CopyOnWriteArrayList<>();

    GatedRepository(Gate gate, UUID freezeAfterLoading) {
      this.gate = gate;
      this.freezeAfterLoading = freezeAfterLoading;
    }

    @SuppressWarnings("unchecked")
    OutboxRepository proxy() {
      return (OutboxRepository)
          Proxy.newProxyInstance(
              OutboxRepository.class.getClassLoader(),
              new Class<?>[] {OutboxRepository.class},
              (proxy, method, args) -> {
                gate.pass();
                String name = method.getName();
                if ((name.equals("candidates") || name.equals("prefetch")) && gate.isReleased()) {
                  gate.nextBatchStarted = true;
                }
                Object result;
                try {
                  result = method.invoke(repository, args);
                } catch (InvocationTargetException ex) {
                  throw ex.getCause();
                }
                // Payloads come from load after a narrow read, or with the rows from prefetch.
                Loaded loaded =
                    switch (name) {
                      case "load" -> (Loaded) result;
                      case "prefetch" -> ((Prefetched) result).loaded();
                      default -> null;
                    };
                if (loaded != null
                    && freezeAfterLoading != null
                    && loaded.events().stream().anyMatch(e -> e.id().equals(freezeAfterLoading))) {
                  gate.close();
                  frozenAfterLoad.countDown();
                  gate.pass();
                }
                if (name.equals("complete") && gate.inStaleBatch()) {
                  staleCompletions.add(
                      new Outcome(List.copyOf((Collection<UUID>) args[2]), (Completion) result));
                  assertThat((List<Retry>) args[3]).isNotNull();
                  assertThat((List<Dead>) args[4]).isNotNull();
                }
                return result;
              });
    }
  }

  /** Delivers to the shared broker; the frozen relay's chosen send freezes it mid-send. */
  private final class GatedTransport implements OutboxTransport {
    final Gate gate;
    final Predicate<OutboxEvent> freezeInSend;
    final CountDownLatch frozenInSend;
    final Set<UUID> failing;
    final List<OutboxEvent> sent = new CopyOnWriteArrayList<>();
    final List<Boolean> sentInStaleBatch = new CopyOnWriteArrayList<>();
    final List<OutboxEvent> deadLetters = new CopyOnWriteArrayList<>();
    volatile RuntimeException failAfterRelease;

    GatedTransport(
        Gate gate,
        Predicate<OutboxEvent> freezeInSend,
        CountDownLatch frozenInSend,
        Set<UUID> failing) {
      this.gate = gate;
      this.freezeInSend = freezeInSend;
      this.frozenInSend = frozenInSend;
      this.failing = failing;
    }

    @Override
    public CompletableFuture<?> send(OutboxEvent event) {
      boolean freezing = !gate.isReleased() && freezeInSend.test(event);
      if (freezing) {
        gate.close();
        frozenInSend.countDown();
        gate.pass();
      }
      sent.add(event);
      sentInStaleBatch.add(gate.inStaleBatch());
      if (freezing && failAfterRelease != null) {
        return CompletableFuture.failedFuture(failAfterRelease);
      }
      if (failing.contains(event.id())) {
        return CompletableFuture.failedFuture(new IllegalStateException("broker busy"));
      }
      broker.received.add(event);
      return CompletableFuture.completedFuture(null);
    }

    /** What the frozen relay sent after it resumed, as part of the batch it was frozen in. */
    List<UUID> staleSends() {
      List<UUID> result = new ArrayList<>();
      for (int i = 0; i < sent.size(); i++) {
        if (sentInStaleBatch.get(i)) {
          result.add(sent.get(i).id());
        }
      }
      return result;
    }

    @Override
    public CompletableFuture<?> sendToDeadLetter(OutboxEvent event, DeadLetter deadLetter) {
      deadLetters.add(event);
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public boolean isRetryable(Throwable failure) {
      return !(failure instanceof ScriptedTransport.Fatal);
    }

    @Override
    public String deadLetterDestination(OutboxEvent event) {
      return event.destination() + "-dlt";
    }
  }
}
