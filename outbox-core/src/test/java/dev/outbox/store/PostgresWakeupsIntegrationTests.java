package dev.outbox.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.test.TcpProxy;
import dev.outbox.test.TestPostgres;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongConsumer;
import org.junit.jupiter.api.Test;

class PostgresWakeupsIntegrationTests {

  private static final Duration BOUND = Duration.ofSeconds(30);

  private final TableName table = TableName.of(null, "wakeups_" + System.nanoTime());

  @Test
  void aSignalOnOneInstanceWakesTheListenersOfOthersOutsideAnyTransaction() {
    AtomicInteger wokenA = new AtomicInteger();
    AtomicInteger wokenB = new AtomicInteger();
    try (PostgresWakeups writerOnly = wakeups(slots -> {});
        PostgresWakeups a = wakeups(slots -> wokenA.incrementAndGet());
        PostgresWakeups b = wakeups(slots -> wokenB.incrementAndGet())) {
      writerOnly.start(false);
      a.start(true);
      b.start(true);
      // each listener wakes its relay once when it starts listening
      await().atMost(Duration.ofSeconds(10)).until(() -> wokenA.get() >= 1 && wokenB.get() >= 1);
      int beforeA = wokenA.get();
      int beforeB = wokenB.get();

      writerOnly.signal();

      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> wokenA.get() > beforeA && wokenB.get() > beforeB);
      assertThat(a.channel()).isEqualTo(b.channel()).startsWith("outbox_");
    }
  }

  /**
   * The starter starts the wake-ups without listening while the database has not answered yet, and
   * with listening once it has.
   */
  @Test
  void startedWithoutListeningItListensOnceStartedAgainWithListening() {
    List<Long> woken = new CopyOnWriteArrayList<>();
    try (PostgresWakeups wakeups = wakeups(woken::add)) {
      wakeups.start(false);
      wakeups.start(true);
      // a listener wakes its relay once when it starts listening
      await().atMost(BOUND).until(() -> woken.contains(Slots.ALL));
      woken.clear();

      wakeups.signal(Slots.bit(5));

      await().atMost(BOUND).until(() -> !woken.isEmpty());
      assertThat(woken).containsExactly(Slots.bit(5));
    }
  }

  @Test
  void manySignalsAreCoalesced() {
    AtomicInteger woken = new AtomicInteger();
    try (PostgresWakeups sender = wakeups(slots -> {});
        PostgresWakeups receiver = wakeups(slots -> woken.incrementAndGet())) {
      receiver.start(true);
      await().atMost(Duration.ofSeconds(10)).until(() -> woken.get() >= 1);
      sender.start(false);
      int before = woken.get();
      for (int i = 0; i < 10_000; i++) {
        sender.signal();
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> woken.get() > before);
      assertThat(woken.get() - before).as("notifications for 10,000 signals").isLessThan(100);
    }
  }

  /**
   * A notification names the slots of the signals it stands for, so that the listeners' relays look
   * at those slots only; one without slots (an older version's, or a bare {@code NOTIFY}) wakes
   * every slot.
   */
  @Test
  void aNotificationCarriesTheSignalledSlotsAndOneWithoutSlotsWakesEverySlot() throws Exception {
    List<Long> woken = new CopyOnWriteArrayList<>();
    try (PostgresWakeups sender = wakeups(slots -> {});
        PostgresWakeups receiver = wakeups(woken::add)) {
      receiver.start(true);
      await().atMost(BOUND).until(() -> woken.contains(Slots.ALL)); // once, on listening
      sender.start(false);
      woken.clear();

      long slots = Slots.bit(3) | Slots.bit(63);
      sender.signal(slots);
      await().atMost(BOUND).until(() -> !woken.isEmpty());
      assertThat(woken).containsExactly(slots);

      woken.clear();
      try (Connection connection = TestPostgres.get().connect();
          Statement statement = connection.createStatement()) {
        statement.execute("NOTIFY " + receiver.channel());
      }
      await().atMost(BOUND).until(() -> !woken.isEmpty());
      assertThat(woken).containsExactly(Slots.ALL);
    }
    assertThat(PostgresWakeups.slotsOf("not hex")).isEqualTo(Slots.ALL);
    assertThat(PostgresWakeups.slotsOf("ffffffffffffffff")).isEqualTo(Slots.ALL);
  }

  /**
   * The server's end of the LISTEN connection goes away and the client hears nothing of it (a
   * network that dropped the server's goodbye): waiting for notifications only reads, so before,
   * that instance was never woken by another again.
   */
  @Test
  void aListenConnectionThatDiedWithoutAWordIsFoundOutAndReplaced() throws Exception {
    Duration databaseTimeout = Duration.ofSeconds(1);
    AtomicInteger woken = new AtomicInteger();
    try (TcpProxy proxy = TestPostgres.get().proxy();
        PostgresWakeups sender = wakeups(slots -> {});
        PostgresWakeups listener =
            new PostgresWakeups(
                TestPostgres.get().dataSourceThrough(proxy, Duration.ofSeconds(5)),
                table,
                slots -> woken.incrementAndGet(),
                databaseTimeout)) {
      sender.start(false);
      listener.start(true);
      await().atMost(BOUND).until(() -> woken.get() >= 1);
      awaitWokenBy(sender, woken);

      proxy.dropSilently();
      // The check finds the connection dead within two database timeouts; the listener listens
      // on a new one (and wakes its relay once for what it may have missed), and hears signals
      int before = woken.get();
      await().atMost(databaseTimeout.multipliedBy(2).plus(BOUND)).until(() -> woken.get() > before);
      awaitWokenBy(sender, woken);
    }
  }

  private PostgresWakeups wakeups(LongConsumer onWake) {
    return new PostgresWakeups(
        TestPostgres.get().dataSource(), table, onWake, PostgresWakeups.DEFAULT_DATABASE_TIMEOUT);
  }

  /** Signals until {@code woken} counts a wake-up after the first signal. */
  private static void awaitWokenBy(PostgresWakeups sender, AtomicInteger woken) {
    int before = woken.get();
    await()
        .atMost(BOUND)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              sender.signal();
              return woken.get() > before;
            });
  }
}
