package dev.outbox.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.test.TestPostgres;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PostgresWakeupsIntegrationTests {

  private final TableName table = TableName.of(null, "wakeups_" + System.nanoTime());

  @Test
  void aSignalOnOneInstanceWakesTheListenersOfOthersOutsideAnyTransaction() {
    AtomicInteger wokenA = new AtomicInteger();
    AtomicInteger wokenB = new AtomicInteger();
    try (PostgresWakeups writerOnly =
            new PostgresWakeups(TestPostgres.get().dataSource(), table, () -> {});
        PostgresWakeups a =
            new PostgresWakeups(TestPostgres.get().dataSource(), table, wokenA::incrementAndGet);
        PostgresWakeups b =
            new PostgresWakeups(TestPostgres.get().dataSource(), table, wokenB::incrementAndGet)) {
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

  @Test
  void manySignalsAreCoalesced() {
    AtomicInteger woken = new AtomicInteger();
    try (PostgresWakeups sender =
            new PostgresWakeups(TestPostgres.get().dataSource(), table, () -> {});
        PostgresWakeups receiver =
            new PostgresWakeups(TestPostgres.get().dataSource(), table, woken::incrementAndGet)) {
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
}
