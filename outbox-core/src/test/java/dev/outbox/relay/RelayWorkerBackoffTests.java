package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.TimeoutException;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class RelayWorkerBackoffTests {

  @Test
  void thePauseStartsAt100MsAndDoublesUpToTheDefaultOf5Seconds() {
    assertThat(
            IntStream.rangeClosed(1, 9)
                .mapToObj(failures -> RelayWorker.errorBackoff(failures, Duration.ofSeconds(5)))
                .map(Duration::toMillis))
        .containsExactly(100L, 200L, 400L, 800L, 1600L, 3200L, 5000L, 5000L, 5000L);
    assertThat(OutboxDefaults.MAX_ERROR_BACKOFF).isEqualTo(Duration.ofSeconds(5));
  }

  /**
   * A worker's batch failed, and another worker then did the slots it left: finding nothing to do,
   * the worker reads its share once more, and its health follows that read (seen once in a CI run:
   * a relay that never turned healthy again after its sessions were terminated, all its events
   * published).
   */
  @Test
  void aWorkerThatFindsNothingToDoAfterAFailureReadsItsShareOnceMoreAndReportsThat() {
    SettableClock clock = new SettableClock();
    InMemoryOutboxRepository store = new InMemoryOutboxRepository(clock);
    RelayNode node = new RelayNode(store, new RecordingTransport(), clock, "node-a");
    node.tick();
    node.cycle(); // reads every slot: nothing is left to do
    RuntimeException failure =
        new IllegalStateException("Could not read pending events: connection terminated");

    node.worker.pauseAfter(failure);
    assertThat(node.health.failure()).contains("Could not read pending events");
    assertThat(node.worker.step()).as("the second read, on a working store").isNotNull();
    assertThat(node.health.failure()).isNull();

    node.worker.pauseAfter(failure);
    Thread self = Thread.currentThread();
    store.failCandidatesOn(thread -> thread == self);
    assertThatThrownBy(node.worker::step).as("the second read, on a failing store").isNotNull();
  }

  @Test
  void thePauseNeverExceedsTheConfiguredMaximum() {
    assertThat(RelayWorker.errorBackoff(3, Duration.ofMillis(250)))
        .isEqualTo(Duration.ofMillis(250));
    assertThat(RelayWorker.errorBackoff(Integer.MAX_VALUE, Duration.ofSeconds(5)))
        .isEqualTo(Duration.ofSeconds(5));
    assertThat(RelayWorker.errorBackoff(40, Duration.ofMinutes(10)))
        .isEqualTo(Duration.ofMinutes(10));
  }

  @Test
  void aFailureCountBelowOneStillPausesTheFirstStep() {
    assertThat(RelayWorker.errorBackoff(0, Duration.ofSeconds(5)))
        .isEqualTo(Duration.ofMillis(100));
  }

  /**
   * A destination that refuses events on its own ends batches "held back" for as long as it stays
   * closed, maybe hours; those batches report the broker failing but do not pause the worker. They
   * must not count towards the next pause either: after them, an outage's first pause is still 100
   * ms, not the longest one. (Counted, a thousand of them would make it 1 s here.)
   */
  @Test
  void batchesHeldBackByARefusingDestinationDoNotLengthenTheNextOutagesPause() {
    SettableClock clock = new SettableClock();
    RelayNode node =
        new RelayNode(
            new InMemoryOutboxRepository(clock), new RecordingTransport(), clock, "node-a");
    RuntimeException refused = new IllegalStateException("Not authorized to access topics: [shut]");
    RuntimeException unreachable = new IllegalStateException(new TimeoutException("no broker"));

    for (int i = 0; i < 1_000; i++) {
      assertThat(node.worker.pauseAfter(new BrokerUnavailableException(1, true, true, refused)))
          .isZero();
    }
    assertThat(node.health.failure()).contains("broker").contains("Not authorized");

    assertThat(node.worker.pauseAfter(new BrokerUnavailableException(1, false, false, unreachable)))
        .isEqualTo(Duration.ofMillis(100));
    assertThat(node.worker.pauseAfter(new BrokerUnavailableException(1, false, false, unreachable)))
        .isEqualTo(Duration.ofMillis(200));
    assertThat(node.worker.pauseAfter(new IllegalStateException("connection reset")))
        .isEqualTo(Duration.ofMillis(400));
  }
}
