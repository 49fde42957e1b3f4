package dev.outbox.concurrent;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SignalTests {

  /** Bounds every wait for another thread; the waits end as soon as the condition holds. */
  private static final Duration BOUND = Duration.ofSeconds(10);

  private final Signal signal = new Signal();

  @Test
  void manySignalsBeforeTheWaiterLooksCountAsOne() throws Exception {
    for (int i = 0; i < 100; i++) {
      signal.signal();
    }

    assertThat(signal.await(Duration.ZERO)).isTrue();
    assertThat(signal.await(Duration.ZERO)).as("coalesced into one").isFalse();
  }

  @Test
  void awaitTimesOutWithoutASignal() throws Exception {
    assertThat(signal.await(Duration.ofMillis(1))).isFalse();
  }

  @Test
  void signalWakesABlockedWaiter() throws Exception {
    Waiter waiter = startWaiter();

    signal.signal();

    assertThat(waiter.result.get(BOUND.toSeconds(), SECONDS)).isTrue();
  }

  @Test
  void signalRaisedWhileTheWaiterIsBusyIsKeptForItsNextAwait() throws Exception {
    AtomicInteger wakes = new AtomicInteger();
    CountDownLatch busy = new CountDownLatch(1);
    Thread waiter =
        new Thread(
            () -> {
              try {
                signal.await();
                wakes.incrementAndGet();
                busy.await(); // working on what it was woken for
                if (signal.await(Duration.ZERO)) {
                  wakes.incrementAndGet();
                }
              } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
              }
            });
    waiter.start();

    signal.signal();
    await().atMost(BOUND).until(() -> wakes.get() == 1);
    signal.signal(); // while the waiter is busy
    busy.countDown();
    waiter.join(BOUND.toMillis());

    assertThat(waiter.isAlive()).isFalse();
    assertThat(wakes).hasValue(2);
  }

  @Test
  void closeWakesTheWaiterAndLaterAwaitsReturnFalseAtOnce() throws Exception {
    Waiter waiter = startWaiter();

    signal.close();

    assertThat(waiter.result.get(BOUND.toSeconds(), SECONDS)).isFalse();
    assertThat(signal.isClosed()).isTrue();
    signal.signal();
    long started = System.nanoTime();
    assertThat(signal.await(Duration.ofDays(1))).isFalse();
    assertThat(signal.await()).isFalse();
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(BOUND);
  }

  @Test
  void interruptedWaiterGetsInterruptedException() {
    Thread.currentThread().interrupt();
    try {
      assertThatThrownBy(() -> signal.await(Duration.ofDays(1)))
          .isInstanceOf(InterruptedException.class);
    } finally {
      Thread.interrupted();
    }
  }

  /** A thread that waits for the signal without a time limit; its result is what await says. */
  private Waiter startWaiter() {
    Waiter waiter = new Waiter(signal);
    waiter.start();
    await()
        .atMost(BOUND)
        .until(
            () ->
                waiter.getState() == Thread.State.TIMED_WAITING
                    || waiter.getState() == Thread.State.WAITING);
    return waiter;
  }

  private static final class Waiter extends Thread {
    private final Signal signal;
    final CompletableFuture<Boolean> result = new CompletableFuture<>();

    Waiter(Signal signal) {
      super("signal-waiter");
      this.signal = signal;
      setDaemon(true);
    }

    @Override
    public void run() {
      try {
        result.complete(signal.await());
      } catch (InterruptedException ex) {
        result.completeExceptionally(ex);
      }
    }
  }
}
