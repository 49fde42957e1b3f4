package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.outbox.OutboxEvent;
import dev.outbox.relay.InMemoryOutboxRepository.StoredRow;
import dev.outbox.relay.RecordingTransport.Kind;
import dev.outbox.store.RelayStore;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The relay with its real threads on the in-memory store and the system clocks. Waits are bounded
 * by the relay's configured timeouts and end as soon as what they wait for happens.
 */
class OutboxRelayLifecycleTests {

  private static final Duration POLL_INTERVAL = Duration.ofMillis(50);
  private static final Duration LEASE_TIMEOUT = POLL_INTERVAL.multipliedBy(3);

  /** The publish timeout, also the bound of every wait for the relay's threads. */
  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(5);

  private final String name = "lifecycle-" + UUID.randomUUID().toString().substring(0, 8);
  private final Clock clock = Clock.systemUTC();
  private final InMemoryOutboxRepository store = new InMemoryOutboxRepository(clock);
  private final RecordingTransport transport = new RecordingTransport();
  private final TestEvents events = new TestEvents(clock);
  private OutboxRelay relay;

  @AfterEach
  void closeRelay() {
    if (relay != null) {
      relay.close();
    }
  }

  private OutboxRelay.Builder builder() {
    return OutboxRelay.builder()
        .name(name)
        .repository(store)
        .transport(transport)
        .workers(2)
        .pollInterval(POLL_INTERVAL)
        .leaseTimeout(LEASE_TIMEOUT)
        .publishTimeout(TIMEOUT)
        .maxErrorBackoff(Duration.ofMillis(200));
  }

  /** The names of the live threads of this relay. */
  private List<String> relayThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .filter(thread -> thread.startsWith(name + "-"))
        .sorted()
        .toList();
  }

  @Test
  void stopReturnsOnlyAfterEveryRelayThreadHasEnded() {
    relay = builder().build();
    relay.start();
    assertThat(relayThreads())
        .containsExactly(name + "-leases", name + "-worker-1", name + "-worker-2");

    relay.stop(STOP_TIMEOUT);

    assertThat(relayThreads()).isEmpty();
    assertThat(relay.isRunning()).isFalse();
    assertThat(store.owners()).as("slots given back").isEmpty();
  }

  @Test
  void stopEndsAWorkerStillWaitingForTheBrokerAndLeavesItsEventPending() {
    relay = builder().build();
    OutboxEvent event = events.event("orders", "order-1");
    store.append(event);
    transport.holdEvent(event.id(), 1);
    relay.start();
    await().atMost(TIMEOUT).until(() -> transport.sent(event.id()));

    relay.stop(Duration.ofMillis(100)); // shorter than the publish timeout: interrupts the worker

    assertThat(relayThreads()).isEmpty();
    StoredRow row = store.row(event.id()).orElseThrow();
    assertThat(row.attempts()).isZero();
    assertThat(row.status()).isEqualTo(InMemoryOutboxRepository.Status.PENDING);
  }

  /**
   * A send that blocks in the transport (Kafka with a full producer buffer) past the batch's
   * deadline, ended by stop()'s interrupt as Kafka ends it: a failure caused by the interrupt, and
   * every later send of the batch failing at once the same way. Before, the batch recorded those
   * failures and charged each event an attempt for the relay's own shutdown.
   */
  @Test
  void stopInterruptingASendBlockedPastTheDeadlineChargesNothing() {
    relay = builder().workers(1).publishTimeout(Duration.ofMillis(200)).build();
    OutboxEvent blocked = events.event("orders", "order-1");
    OutboxEvent next = events.event("orders", "order-2");
    store.append(blocked);
    store.append(next);
    CountDownLatch blocking = new CountDownLatch(1);
    transport.onSend(
        event -> {
          if (Thread.currentThread().isInterrupted()) {
            throw new InterruptedSend(new InterruptedException());
          }
          if (event.id().equals(blocked.id())) {
            blocking.countDown();
            try {
              new CountDownLatch(1).await(); // until interrupted
            } catch (InterruptedException ex) {
              Thread.currentThread().interrupt();
              throw new InterruptedSend(ex);
            }
          }
        });
    relay.start();
    await().atMost(TIMEOUT).until(() -> blocking.getCount() == 0);

    relay.stop(Duration.ofMillis(500)); // past the publish timeout, then interrupts the worker

    assertThat(relayThreads()).isEmpty();
    assertThat(store.rows())
        .as("what is left is pending and uncharged")
        .isNotEmpty()
        .allSatisfy(
            row -> {
              assertThat(row.attempts()).isZero();
              assertThat(row.status()).isEqualTo(InMemoryOutboxRepository.Status.PENDING);
            });
    assertThat(store.row(blocked.id())).isPresent();
  }

  /** What Kafka's producer throws when the sending thread is interrupted. */
  private static final class InterruptedSend extends RuntimeException {
    InterruptedSend(InterruptedException cause) {
      super(cause);
    }
  }

  @Test
  void startsAgainAfterStopAndPublishesWhatWasWrittenMeanwhile() {
    relay = builder().build();
    relay.start();
    relay.stop(STOP_TIMEOUT);
    OutboxEvent event = events.event("orders", "order-1");
    store.append(event);

    relay.start();

    assertThat(relay.isRunning()).isTrue();
    await().atMost(TIMEOUT).until(() -> store.rows().isEmpty());
    assertThat(transport.sentIds()).containsExactly(event.id());
    assertThat(relay.ownedSlots()).isEqualTo(RelayStore.SLOTS);
    relay.stop(STOP_TIMEOUT);
    assertThat(relayThreads()).isEmpty();
  }

  @Test
  void closeIsTerminal() {
    relay = builder().build();
    relay.start();

    relay.close();

    assertThat(relayThreads()).isEmpty();
    assertThat(relay.isRunning()).isFalse();
    assertThatThrownBy(relay::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("Outbox relay '" + name + "' is closed");
    relay.close(); // again: nothing happens
    assertThat(relayThreads()).isEmpty();
  }

  @Test
  void closeBeforeStartIsTerminalToo() {
    relay = builder().build();

    relay.close();

    assertThatThrownBy(relay::start).isInstanceOf(IllegalStateException.class);
    assertThat(relayThreads()).isEmpty();
  }

  /**
   * The poll interval is longer than every wait here, and the lease keeper's only tick before it
   * (at start) finds no events: whatever a worker does after that, {@code wakeUp()} made it.
   */
  @Test
  void wakeUpReachesAWorkerWhileTheOtherWorkerIsInAnErrorBackoff() {
    Duration pollInterval = TIMEOUT.multipliedBy(2);
    relay =
        builder()
            .pollInterval(pollInterval)
            .leaseTimeout(pollInterval.multipliedBy(3))
            .maxErrorBackoff(Duration.ofMinutes(1))
            .build();
    String failing = name + "-worker-1";
    store.failCandidatesOn(thread -> thread.getName().equals(failing));
    relay.start();
    await().atMost(TIMEOUT).until(() -> relay.ownedSlots() == RelayStore.SLOTS);

    // Wake until worker-1 has tried a share of the slots (a worker may take every slot that may
    // hold events while the other still sleeps): it fails and backs off; worker-2 finds nothing.
    await()
        .atMost(TIMEOUT)
        .until(
            () -> {
              relay.wakeUp();
              return relay.lastFailure() != null && relay.lastFailure().startsWith("worker-1: ");
            });
    for (int slot = 0; slot < RelayStore.SLOTS; slot++) {
      store.append(events.event("orders", TestEvents.keyInSlot(slot, "order")));
    }

    relay.wakeUp();

    // worker-1 cannot read anything, so every send comes from worker-2
    await().atMost(TIMEOUT).until(() -> !transport.sends().isEmpty());
    assertThat(relay.lastFailure())
        .startsWith("worker-1: OutboxException: Could not read pending events")
        .doesNotContain("worker-2");
  }

  @Test
  void brokerOutageMakesTheRelayUnhealthyWithTheReasonUntilACycleSucceeds() {
    relay = builder().workers(1).build();
    OutboxEvent event = events.event("orders", "order-1");
    store.append(event);
    transport.failDestination("orders", Integer.MAX_VALUE, Kind.BROKER_UNAVAILABLE);
    relay.start();

    await().atMost(TIMEOUT).until(() -> !relay.isHealthy());
    assertThat(relay.lastFailure())
        .startsWith(
            "broker: BrokerUnavailableException: The broker cannot be reached; 1 event(s) kept"
                + " for the next attempt; caused by Unavailable: connection refused");
    await().atMost(TIMEOUT).until(() -> transport.sends().size() >= 3);
    assertThat(store.row(event.id()).orElseThrow().attempts()).as("no attempt charged").isZero();
    assertThat(transport.deadLetters()).isEmpty();

    transport.failDestination("orders", 0, Kind.BROKER_UNAVAILABLE); // the broker is back

    await().atMost(TIMEOUT).until(relay::isHealthy);
    assertThat(relay.lastFailure()).isNull();
    assertThat(store.rows()).isEmpty();
    assertThat(transport.sends()).allSatisfy(send -> assertThat(send.attempts()).isZero());
    assertThat(transport.deadLetters()).isEmpty();
  }

  @Test
  void aWorkerThreadKilledByAnErrorTurnsTheRelayUnhealthyNamingTheThread() {
    // An Error thrown where the relay catches only exceptions (here: from a listener) ends the
    // worker's thread; the relay must say so instead of silently publishing with one worker less.
    relay =
        builder()
            .workers(1)
            .listener(
                new RelayListener() {
                  @Override
                  public void published(OutboxEvent event, Duration sinceWrite) {
                    throw new StackOverflowError("simulated");
                  }
                })
            .build();
    relay.start();
    store.append(events.event("orders", "k"));

    await().atMost(TIMEOUT).until(() -> !relay.isHealthy());
    assertThat(relay.lastFailure())
        .isEqualTo("worker-1: thread died: StackOverflowError: simulated");
    assertThat(relayThreads()).doesNotContain(name + "-worker-1");
  }
}
