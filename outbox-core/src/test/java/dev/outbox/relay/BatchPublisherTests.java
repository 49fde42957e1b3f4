package dev.outbox.relay;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.outbox.OutboxEvent;
import dev.outbox.relay.BatchPublisher.Outcome;
import dev.outbox.relay.InMemoryOutboxRepository.Status;
import dev.outbox.relay.InMemoryOutboxRepository.StoredRow;
import dev.outbox.relay.RecordingTransport.Kind;
import dev.outbox.store.OutboxRepository.DeadEvent;
import dev.outbox.store.RelayStore.Completion;
import dev.outbox.store.StoreOptions;
import dev.outbox.test.LogCapture;
import dev.outbox.transport.PublishTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One relay instance's batches, driven synchronously on the settable clock: per-key order, retries,
 * dead letters, broker outages and the publish deadline. The relay holds every slot (one member).
 */
class BatchPublisherTests {

  private final SettableClock clock = new SettableClock();
  private final InMemoryOutboxRepository store = new InMemoryOutboxRepository(clock);
  private final RecordingTransport transport = new RecordingTransport();
  private final TestEvents events = new TestEvents(clock);
  private final ExecutorService background = Executors.newSingleThreadExecutor();
  private RelayNode node;

  @BeforeEach
  void holdEverySlot() {
    node = new RelayNode(store, transport, clock, "node-a");
    node.tick();
    assertThat(node.owned()).isEqualTo(64);
  }

  @AfterEach
  void stopBackground() {
    background.shutdownNow();
  }

  private StoredRow row(OutboxEvent event) {
    return store.row(event.id()).orElseThrow(() -> new AssertionError("no row " + event.id()));
  }

  @Test
  void sendsTheNextEventOfAKeyOnlyAfterThePreviousWasAcknowledgedAndOtherKeysAtOnce()
      throws Exception {
    OutboxEvent first = events.event("orders", "order-1");
    OutboxEvent second = events.event("orders", "order-1");
    OutboxEvent third = events.event("orders", "order-1");
    OutboxEvent other = events.event("orders", "order-2");
    store.append(first, second, third, other);
    transport.holdEvent(first.id(), 1);

    // The batch blocks until the held acknowledgement comes, so it runs on another thread.
    Future<Outcome> batch = background.submit(node::cycle);

    await().atMost(RelayNode.PUBLISH_TIMEOUT).until(() -> transport.sent(other.id()));
    // second can only be sent by first's acknowledgement, which the test holds back
    assertThat(transport.sentIds()).containsExactly(first.id(), other.id());
    assertThat(batch).isNotDone();

    transport.complete(first.id());
    Outcome outcome = batch.get(RelayNode.PUBLISH_TIMEOUT.toMillis(), MILLISECONDS);

    assertThat(outcome.attempted()).isEqualTo(4);
    assertThat(transport.sentIds())
        .containsExactly(first.id(), other.id(), second.id(), third.id());
    assertThat(store.rows()).isEmpty();
    assertThat(store.completions()).containsExactly(new Completion(4, 0, 0));
  }

  /**
   * While few rows are pending, a batch reads them with their payloads in one call; once a batch
   * comes back full (a backlog), the rows are read narrow and only the payloads to send are loaded,
   * until a batch finds the slots nearly empty again. The node's batch is 100 events.
   */
  @Test
  void readsFewPendingRowsWithTheirPayloadsAndABacklogNarrowUntilItIsDrained() {
    OutboxEvent single = events.event("orders", "single");
    store.append(single);

    assertThat(node.cycle()).isEqualTo(new Outcome(1, false));
    assertThat(store.prefetches()).isEqualTo(1);
    assertThat(store.candidateReads()).isZero();

    List<OutboxEvent> backlog = new ArrayList<>();
    for (int i = 0; i < 250; i++) {
      backlog.add(events.event("orders", "order-" + (i % 50)));
    }
    store.append(backlog.toArray(OutboxEvent[]::new));

    Outcome prefetched = node.cycle();
    assertThat(prefetched.more()).as("a prefetch that filled its limit says so").isTrue();
    assertThat(store.prefetches()).isEqualTo(2);
    List<Outcome> narrow = new ArrayList<>();
    for (int batch = 0; batch < 10 && !store.rows().isEmpty(); batch++) {
      narrow.add(node.cycle());
    }
    assertThat(store.rows()).as("pending after %d narrow batches", narrow.size()).isEmpty();
    assertThat(store.candidateReads()).as("the backlog, read narrow").isEqualTo(narrow.size());
    assertThat(store.prefetches()).isEqualTo(2);
    assertThat(narrow.get(narrow.size() - 1).more()).isFalse();

    assertThat(node.cycle()).as("the slots are empty again").isEqualTo(Outcome.IDLE);
    assertThat(store.prefetches()).isEqualTo(3);
    List<OutboxEvent> sent = new ArrayList<>(List.of(single));
    sent.addAll(backlog);
    assertThat(transport.sentIds())
        .containsExactlyInAnyOrderElementsOf(sent.stream().map(OutboxEvent::id).toList());
    for (int key = 0; key < 50; key++) {
      String name = "order-" + key;
      assertThat(transport.sends().stream().filter(send -> name.equals(send.event().key())))
          .as("events of %s in write order", name)
          .extracting(send -> send.event().id())
          .containsExactlyElementsOf(
              backlog.stream().filter(e -> name.equals(e.key())).map(OutboxEvent::id).toList());
    }
  }

  @Test
  void retryableFailureSchedulesARetryWithTheSameIdAndHoldsBackOnlyItsOwnKey() {
    OutboxEvent failing = events.event("payments", "order-1");
    OutboxEvent later = events.event("orders", "order-1");
    OutboxEvent other = events.event("orders", "order-2");
    store.append(failing, later, other);
    transport.failEvent(failing.id(), 1, Kind.RETRYABLE);

    node.cycle();

    assertThat(transport.sentIds()).containsExactly(failing.id(), other.id());
    assertThat(row(failing).status()).isEqualTo(Status.PENDING);
    assertThat(row(failing).attempts()).isEqualTo(1);
    assertThat(row(failing).lastError()).startsWith("Retryable: broker busy");
    assertThat(row(failing).availableAt()).isEqualTo(clock.instant().plusSeconds(1));
    assertThat(row(later).attempts()).isZero();
    assertThat(store.row(other.id())).isEmpty();
    assertThat(node.heldKeys.current().keys())
        .as("the recorded retry holds its key here too, until it is due")
        .containsExactly("order-1");

    OutboxEvent next = events.event("orders", "order-2");
    store.append(next);
    clock.advance(Duration.ofMillis(999));
    node.cycle();
    assertThat(transport.sentIds()).containsExactly(failing.id(), other.id(), next.id());

    clock.advance(Duration.ofMillis(1));
    node.cycle();

    assertThat(transport.sentIds())
        .containsExactly(failing.id(), other.id(), next.id(), failing.id(), later.id());
    assertThat(transport.sends().get(3).attempts()).isEqualTo(1);
    assertThat(store.rows()).isEmpty();
    assertThat(transport.deadLetters()).isEmpty();
  }

  @Test
  void exhaustedRetriesMakeTheEventDeadAndDeadLetterItThenItsKeyContinues() {
    OutboxEvent failing = events.event("orders", "order-1");
    OutboxEvent later = events.event("orders", "order-1");
    store.append(failing, later);
    transport.failEvent(failing.id(), 3, Kind.RETRYABLE);

    node.cycle();
    clock.advance(Duration.ofSeconds(1));
    node.cycle();
    clock.advance(Duration.ofSeconds(2));
    node.cycle();

    assertThat(transport.sends())
        .extracting(RecordingTransport.Send::id, RecordingTransport.Send::attempts)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(failing.id(), 0),
            org.assertj.core.groups.Tuple.tuple(failing.id(), 1),
            org.assertj.core.groups.Tuple.tuple(failing.id(), 2));
    assertThat(row(failing).status()).isEqualTo(Status.DEAD);
    List<DeadEvent> dead = store.findDead(10);
    assertThat(dead).hasSize(1);
    assertThat(dead.get(0).event().id()).isEqualTo(failing.id());
    assertThat(dead.get(0).event().attempts()).isEqualTo(3);
    assertThat(dead.get(0).lastError()).startsWith("Retryable: broker busy");
    assertThat(transport.deadLetters()).hasSize(1);
    assertThat(transport.deadLetters().get(0).event().id()).isEqualTo(failing.id());
    assertThat(transport.deadLetters().get(0).deadLetter().attempts()).isEqualTo(3);
    assertThat(transport.deadLetters().get(0).deadLetter().errorClass())
        .isEqualTo(RecordingTransport.Retryable.class.getName());

    node.cycle(); // by default a dead event does not hold its key back

    assertThat(transport.sentIds()).endsWith(later.id());
    assertThat(store.row(later.id())).isEmpty();
  }

  @Test
  void nonRetryableFailureMakesTheEventDeadAtTheFirstAttempt() {
    OutboxEvent poison = events.event("orders", "order-1");
    store.append(poison);
    transport.failEvent(poison.id(), 1, Kind.NON_RETRYABLE);

    node.cycle();
    node.cycle();

    assertThat(transport.sentIds()).containsExactly(poison.id());
    assertThat(row(poison).status()).isEqualTo(Status.DEAD);
    assertThat(row(poison).attempts()).isEqualTo(1);
    assertThat(row(poison).lastError()).startsWith("NonRetryable: record too large");
    assertThat(transport.deadLetters()).hasSize(1);
    assertThat(transport.deadLetters().get(0).deadLetter().attempts()).isEqualTo(1);
    assertThat(store.completions()).first().isEqualTo(new Completion(0, 0, 1));
  }

  @Test
  void aBatchLogsOneLinePerOutcomeNotOnePerEventWithTheEventInTheMdcOfTheDebugLines() {
    List<OutboxEvent> failing = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      OutboxEvent event = events.event("payments", "order-" + i);
      failing.add(event);
      transport.failEvent(event.id(), 1, Kind.RETRYABLE);
    }
    OutboxEvent poison = events.event("orders", "order-9");
    transport.failEvent(poison.id(), 1, Kind.NON_RETRYABLE);
    store.append(failing.toArray(OutboxEvent[]::new));
    store.append(poison);

    List<ILoggingEvent> logged;
    List<String> warnOrAbove;
    try (LogCapture log = LogCapture.of(BatchPublisher.class, Level.DEBUG)) {
      node.cycle();
      logged = log.events();
      warnOrAbove = log.warnings();
    }

    assertThat(warnOrAbove).hasSize(2);
    assertThat(warnOrAbove.get(0))
        .isEqualTo(
            "WARN Outbox relay: 5 event(s) failed and will be retried: payments: 5 (event "
                + failing.get(0).id()
                + ", "
                + failing.get(1).id()
                + ", "
                + failing.get(2).id()
                + ", …; attempt 1) Retryable: broker busy, event "
                + failing.get(0).id());
    assertThat(warnOrAbove.get(1))
        .startsWith(
            "ERROR Outbox relay: 1 event(s) failed for good and are dead-lettered (DEAD in the"
                + " table): orders: 1 (event "
                + poison.id()
                + "; attempt 1) NonRetryable: record too large");
    List<ILoggingEvent> perEvent =
        logged.stream()
            .filter(e -> e.getLevel() == Level.DEBUG)
            .filter(e -> e.getFormattedMessage().startsWith("Publishing event "))
            .toList();
    assertThat(perEvent).hasSize(6);
    assertThat(perEvent)
        .allSatisfy(
            e ->
                assertThat(e.getFormattedMessage())
                    .contains(e.getMDCPropertyMap().get("outbox.event.id")));
    assertThat(perEvent.get(0).getMDCPropertyMap())
        .containsEntry("outbox.event.destination", "payments")
        .containsEntry("outbox.event.key", "order-0");
  }

  @Test
  void theRetryLineTakesTheConfiguredLevel() {
    OutboxEvent failing = events.event("payments", "order-1");
    transport.failEvent(failing.id(), 1, Kind.RETRYABLE);
    store.append(failing);
    node.publisher.transientFailureLevel(org.slf4j.event.Level.INFO);

    try (LogCapture log = LogCapture.of(BatchPublisher.class)) {
      node.cycle();
      assertThat(log.lines("will be retried")).singleElement().asString().startsWith("INFO ");
    }
  }

  @Test
  void anEventWhoseDeadLetterCannotBeSentNowIsKeptUnchargedNotDead() {
    OutboxEvent poison = events.event("orders", "order-1");
    OutboxEvent later = events.event("orders", "order-1");
    OutboxEvent other = events.event("orders", "order-2");
    store.append(poison, later, other);
    transport.failEvent(poison.id(), 2, Kind.NON_RETRYABLE);
    transport.failDeadLetters(1, Kind.BROKER_UNAVAILABLE);

    assertThatThrownBy(node::cycle)
        .isInstanceOf(BrokerUnavailableException.class)
        .hasMessage("The broker cannot be reached; 1 event(s) kept for the next attempt")
        .hasRootCauseMessage("connection refused");

    assertThat(row(poison).status()).isEqualTo(Status.PENDING);
    assertThat(row(poison).attempts()).as("nothing charged").isZero();
    assertThat(row(poison).lastError()).isNull();
    assertThat(row(later).status()).isEqualTo(Status.PENDING);
    assertThat(store.row(other.id())).as("other keys are not affected").isEmpty();
    assertThat(transport.deadLetters()).isEmpty();

    node.cycle(); // the dead-letter destination takes it now

    assertThat(row(poison).status()).isEqualTo(Status.DEAD);
    assertThat(row(poison).attempts()).isEqualTo(1);
    assertThat(row(poison).lastError()).doesNotContain("dead-letter send failed");
    assertThat(transport.deadLetters())
        .extracting(d -> d.event().id())
        .containsExactly(poison.id());
  }

  @Test
  void deadEventHoldsItsKeyBackUntilDiscardedWhenConfigured() {
    InMemoryOutboxRepository blocking =
        new InMemoryOutboxRepository(clock, StoreOptions.defaults().withDeadEventBlocksKey(true));
    RelayNode relay = new RelayNode(blocking, transport, clock, "node-b");
    relay.tick();
    OutboxEvent poison = events.event("orders", "order-1");
    OutboxEvent later = events.event("orders", "order-1");
    OutboxEvent other = events.event("orders", "order-2");
    blocking.append(poison, later, other);
    transport.failEvent(poison.id(), 1, Kind.NON_RETRYABLE);

    relay.cycle();
    relay.cycle();

    assertThat(transport.sentIds()).containsExactly(poison.id(), other.id());
    assertThat(blocking.discard(poison.id())).isTrue();
    relay.cycle();
    assertThat(transport.sentIds()).containsExactly(poison.id(), other.id(), later.id());
  }

  @Test
  void brokerOutageChargesNoAttemptAndDeadLettersNothing() {
    OutboxEvent kept = events.event("orders", "order-1");
    OutboxEvent later = events.event("orders", "order-1");
    OutboxEvent elsewhere = events.event("audit", "order-2");
    store.append(kept, later, elsewhere);
    transport.failDestination("orders", 1, Kind.BROKER_UNAVAILABLE);

    assertThatThrownBy(node::cycle)
        .isInstanceOf(BrokerUnavailableException.class)
        .hasMessage("The broker cannot be reached; 1 event(s) kept for the next attempt")
        .hasRootCauseMessage("connection refused");

    assertThat(transport.sentIds()).containsExactly(kept.id(), elsewhere.id());
    assertThat(row(kept).attempts()).isZero();
    assertThat(row(kept).lastError()).isNull();
    assertThat(row(later).attempts()).isZero();
    assertThat(store.row(elsewhere.id())).isEmpty();
    assertThat(transport.deadLetters()).isEmpty();

    node.cycle(); // no backoff in the table: the next cycle sends the key again, in order

    assertThat(transport.sentIds())
        .containsExactly(kept.id(), elsewhere.id(), kept.id(), later.id());
    assertThat(transport.sends().get(2).attempts()).isZero();
    assertThat(store.rows()).isEmpty();
  }

  /**
   * One destination refuses its events on its own (a topic without write permission) while they
   * fill the oldest rows of every slot (about 17 a slot, more than the 16 a batch of 100 reads per
   * slot): its keys are held back, so the next batches reach the other destination's events behind
   * them, in key order, with the clock standing still; nothing is charged. Once the destination
   * takes events again, its events go at the end of the closure (1 s, the first one), uncharged.
   */
  @Test
  void aDestinationThatRefusesEventsOnItsOwnDoesNotHoldUpOtherDestinationsQueuedBehindIt() {
    List<OutboxEvent> shut = new ArrayList<>();
    for (int i = 0; i < 1_100; i++) {
      shut.add(events.event("shut", "shut-" + i));
    }
    OutboxEvent firstOpen = events.event("open", "open-1");
    OutboxEvent laterOpen = events.event("open", "open-1");
    OutboxEvent otherOpen = events.event("open", "open-2");
    store.append(shut.toArray(OutboxEvent[]::new));
    store.append(firstOpen, laterOpen, otherOpen);
    transport.failDestination("shut", Integer.MAX_VALUE, Kind.DESTINATION_UNAVAILABLE);

    List<BrokerUnavailableException> refusals = cycleUntilPublished(otherOpen, laterOpen);

    assertThat(refusals)
        .as("each batch that held events of \"shut\" says so, and that their keys are held back")
        .isNotEmpty()
        .allMatch(BrokerUnavailableException::heldBack);
    List<java.util.UUID> sent = transport.sentIds();
    assertThat(sent.indexOf(firstOpen.id())).isLessThan(sent.indexOf(laterOpen.id()));
    assertThat(shut).allMatch(event -> row(event).status() == Status.PENDING);
    assertThat(store.rows()).hasSize(shut.size());
    assertThat(node.heldKeys.anyClosed()).isTrue();
    assertThat(store.keyLookUps()).as("the keys of a new closure are looked up").isPositive();
    shutIsNotReadAgainWhileClosedAndGoesOutUnchargedOnceOpen();
  }

  /**
   * Another worker may close a destination while this worker's batch, started before, still sends
   * to it: an event of that batch that went through may have gone before the refusal, so it does
   * not open the destination, and the closure and its doubling stand.
   */
  @Test
  void anEventOfABatchThatStartedBeforeAnotherWorkersClosureDoesNotOpenIt() {
    OutboxEvent sentBefore = events.event("shut", "shut-1");
    store.append(sentBefore);
    transport.onSend(
        event -> {
          clock.advance(Duration.ofMillis(1));
          node.heldKeys.close("shut", Duration.ofSeconds(5)); // the other worker's refused batch
          clock.advance(Duration.ofMillis(1));
        });

    node.cycle();

    assertThat(store.rows()).as("the event went through").isEmpty();
    assertThat(node.heldKeys.current().destinations())
        .as("still closed by the other worker's refusal")
        .containsExactly("shut");
  }

  /**
   * Events that failed for good while their dead-letter destination refuses them on its own stay
   * pending, uncharged, and their keys are held back, so the next batch goes on with other keys
   * instead of sending them again; when the closure ends and the dead-letter destination takes
   * them, they are dead-lettered and DEAD.
   */
  @Test
  void eventsWhoseDeadLetterDestinationRefusesThemAreHeldBackWhileOthersGoOn() {
    OutboxEvent poison = events.event("orders", "order-1");
    OutboxEvent later = events.event("orders", "order-1");
    OutboxEvent other = events.event("orders", "order-2");
    store.append(poison, later);
    transport.failEvent(poison.id(), 2, Kind.NON_RETRYABLE);
    transport.failDeadLetters(1, Kind.DESTINATION_UNAVAILABLE);

    assertThatThrownBy(node::cycle)
        .isInstanceOfSatisfying(
            BrokerUnavailableException.class, refused -> assertThat(refused.heldBack()).isTrue())
        .as("the broker answers: only the dead-letter destination refuses")
        .hasMessage(
            "A destination refuses events (the broker answers); 1 event(s) kept for the next"
                + " attempt, held back with their key or destination");
    store.append(other);
    node.cycle();

    assertThat(transport.sentIds())
        .as("the held key is not sent again while its dead-letter destination is closed")
        .containsExactly(poison.id(), other.id());
    assertThat(row(poison).attempts()).isZero();
    assertThat(row(later).status()).isEqualTo(Status.PENDING);
    assertThat(node.heldKeys.anyClosed()).isTrue();
    assertThat(store.keyLookUps())
        .as("no event is written to a dead-letter destination: no keys to look up")
        .isZero();

    clock.advance(HeldKeys.FIRST_CLOSURE);
    node.cycle();

    assertThat(row(poison).status()).isEqualTo(Status.DEAD);
    assertThat(transport.deadLetters())
        .extracting(d -> d.event().id())
        .containsExactly(poison.id());
    node.cycle(); // the key goes on with its next event
    assertThat(store.row(later.id())).as("the key went on after its dead event").isEmpty();
    assertThat(node.heldKeys.anyClosed()).as("opened by the dead letter that went").isFalse();
  }

  /**
   * Unkeyed events keep no order, so a destination that refuses them on its own is left out of the
   * reads with them for its closure: the events queued behind them go on at once, without a pause,
   * and when the closure ends they are read and tried again, uncharged.
   */
  @Test
  void unkeyedEventsOfARefusingDestinationAreLeftOutWithItWhileOthersGoOn() {
    List<OutboxEvent> shut = new ArrayList<>();
    for (int i = 0; i < 1_100; i++) {
      shut.add(events.event("shut", null));
    }
    OutboxEvent keyedShut = events.event("shut", "order-1");
    OutboxEvent unkeyedOpen = events.event("open", null);
    OutboxEvent keyedOpen = events.event("open", "order-2");
    store.append(shut.toArray(OutboxEvent[]::new));
    store.append(keyedShut, unkeyedOpen, keyedOpen);
    transport.failDestination("shut", Integer.MAX_VALUE, Kind.DESTINATION_UNAVAILABLE);

    List<BrokerUnavailableException> refusals = cycleUntilPublished(unkeyedOpen, keyedOpen);

    assertThat(refusals)
        .as("each batch that held events of \"shut\" says they are held back: no pause")
        .isNotEmpty()
        .allMatch(BrokerUnavailableException::heldBack);
    assertThat(shut).allMatch(event -> row(event).status() == Status.PENDING);
    assertThat(row(keyedShut).status()).isEqualTo(Status.PENDING);
    shutIsNotReadAgainWhileClosedAndGoesOutUnchargedOnceOpen();
  }

  /**
   * An unkeyed event whose dead letter its dead-letter destination refuses cannot be held back:
   * neither by a key nor by its own destination, which takes the other events. The batch says that
   * a destination refuses it while the broker answers, not that the broker cannot be reached, and
   * the worker pauses as after an outage instead of reading the same event again at once.
   */
  @Test
  void anUnkeyedEventWhoseDeadLetterIsRefusedIsNotHeldBackSoTheWorkerPauses() {
    OutboxEvent poison = events.event("orders", null);
    store.append(poison);
    transport.failEvent(poison.id(), 1, Kind.NON_RETRYABLE);
    transport.failDeadLetters(1, Kind.DESTINATION_UNAVAILABLE);

    assertThatThrownBy(node::cycle)
        .isInstanceOfSatisfying(
            BrokerUnavailableException.class, refused -> assertThat(refused.heldBack()).isFalse())
        .as("the broker answers: only the dead-letter destination refuses")
        .hasMessage(
            "A destination refuses events (the broker answers); 1 event(s) kept for the next"
                + " attempt")
        .hasRootCauseInstanceOf(RecordingTransport.Refused.class);
    assertThat(row(poison).attempts()).isZero();
    assertThat(row(poison).status()).isEqualTo(Status.PENDING);
    assertThat(transport.deadLetters()).isEmpty();
    assertThat(node.heldKeys.anyClosed()).as("nothing to hold back with it").isFalse();
  }

  /**
   * Beside an event its destination refuses, one the broker could not be reached for: the batch
   * reports the broker, whichever came first, and names no refusing destination.
   */
  @Test
  void anUnkeyedEventWhoseDeadLetterIsRefusedBesideAnOutageReportsTheOutage() {
    OutboxEvent poison = events.event("orders", null);
    OutboxEvent kept = events.event("audit", "order-1");
    store.append(poison, kept);
    transport.failEvent(poison.id(), 1, Kind.NON_RETRYABLE);
    transport.failDeadLetters(1, Kind.DESTINATION_UNAVAILABLE);
    transport.failDestination("audit", 1, Kind.BROKER_UNAVAILABLE);

    assertThatThrownBy(node::cycle)
        .isInstanceOfSatisfying(
            BrokerUnavailableException.class, failed -> assertThat(failed.heldBack()).isFalse())
        .hasMessage("The broker cannot be reached; 2 event(s) kept for the next attempt")
        .hasRootCauseMessage("connection refused");
    assertThat(row(poison).attempts()).isZero();
    assertThat(row(kept).attempts()).isZero();
  }

  /**
   * An event its own destination refuses, written first, then one the broker could not be reached
   * for: the batch reports the broker, and its cause is the outage, not the first failure of the
   * batch (a cause naming the refusing destination would contradict the message).
   */
  @Test
  void aRefusalBeforeAnOutageInTheSameBatchReportsTheOutageWithItsCause() {
    OutboxEvent refused = events.event("shut", "order-1");
    OutboxEvent unreached = events.event("orders", "order-2");
    store.append(refused, unreached);
    transport.failDestination("shut", 1, Kind.DESTINATION_UNAVAILABLE);
    transport.failDestination("orders", 1, Kind.BROKER_UNAVAILABLE);

    assertThatThrownBy(node::cycle)
        .isInstanceOfSatisfying(
            BrokerUnavailableException.class, failed -> assertThat(failed.heldBack()).isFalse())
        .hasMessage("The broker cannot be reached; 2 event(s) kept for the next attempt")
        .hasRootCauseInstanceOf(RecordingTransport.Unavailable.class)
        .hasRootCauseMessage("connection refused");
    assertThat(row(refused).attempts()).isZero();
    assertThat(row(unreached).attempts()).isZero();
  }

  /**
   * The deadline runs from the batch's first send by the relay's monotonic clock. Here the broker
   * "takes" 199 ms and 1 ms for the two acknowledged sends (the transport advances the settable
   * clock as it is handed each event), so the deadline has passed when the relay looks again and it
   * never waits for real. Were it to wait, {@code acks.poll} is bounded by the time left to the
   * deadline, at most {@code publishTimeout}: 200 ms is the smallest value that still leaves room
   * for the two steps and keeps even a failing run of this test short.
   */
  @Test
  void acknowledgementThatNeverComesCountsAsATimedOutAttemptPublishTimeoutAfterTheFirstSend() {
    Duration publishTimeout = Duration.ofMillis(200);
    RelayNode relay = takeOver(publishTimeout);
    OutboxEvent silent = events.event("orders", "order-1");
    OutboxEvent quick = events.event("orders", "order-2");
    OutboxEvent afterQuick = events.event("orders", "order-2");
    OutboxEvent tooLate = events.event("orders", "order-2");
    store.append(silent, quick, afterQuick, tooLate);
    transport.holdEvent(silent.id(), 1);
    transport.onSend(
        event -> {
          if (event.id().equals(quick.id())) {
            clock.advance(Duration.ofMillis(199));
          } else if (event.id().equals(afterQuick.id())) {
            clock.advance(Duration.ofMillis(1));
          }
        });

    Outcome outcome = relay.cycle();

    assertThat(outcome.attempted()).isEqualTo(3);
    assertThat(transport.sentIds()).containsExactly(silent.id(), quick.id(), afterQuick.id());
    assertThat(row(silent).attempts()).isEqualTo(1);
    assertThat(row(silent).lastError())
        .isEqualTo("PublishTimeoutException: no acknowledgement from the broker within 200 ms");
    assertThat(store.row(quick.id())).isEmpty();
    assertThat(store.row(afterQuick.id())).isEmpty();
    assertThat(row(tooLate).attempts()).as("not sent, so not charged").isZero();

    // The acknowledgement arriving after the deadline changes nothing.
    assertThat(transport.complete(silent.id())).isEqualTo(1);
    assertThat(row(silent).attempts()).isEqualTo(1);

    clock.advance(RelayNode.RETRIES.backoff(1));
    relay.cycle();

    assertThat(transport.sentIds()).endsWith(silent.id(), tooLate.id());
    assertThat(transport.sends().get(3).attempts()).isEqualTo(1);
    assertThat(store.rows()).isEmpty();
  }

  /**
   * A key's later event, sent when the one before it was acknowledged, had less than the publish
   * timeout: still unacknowledged at the batch's deadline, it is neither charged nor reported as
   * the broker's failure (which would pause the worker and turn the relay unhealthy); it stays
   * pending and goes first in its key's next batch.
   */
  @Test
  void aKeysLaterEventUnacknowledgedAtTheDeadlineIsNotChargedAndGoesFirstInTheNextBatch() {
    RelayNode relay = takeOver(Duration.ofMillis(200));
    OutboxEvent first = events.event("orders", "order-1");
    OutboxEvent cutOff = events.event("orders", "order-1");
    OutboxEvent last = events.event("orders", "order-1");
    store.append(first, cutOff, last);
    transport.holdEvent(cutOff.id(), 1);
    transport.onSend(
        event -> {
          if (event.id().equals(first.id())) {
            clock.advance(Duration.ofMillis(199));
          }
        });

    relay.cycle();

    assertThat(transport.sentIds()).containsExactly(first.id(), cutOff.id());
    assertThat(store.row(first.id())).isEmpty();
    assertThat(row(cutOff).attempts()).as("not charged").isZero();
    assertThat(transport.classified()).as("not the broker's failure either").isEmpty();

    relay.cycle();

    assertThat(transport.sentIds())
        .containsExactly(first.id(), cutOff.id(), cutOff.id(), last.id());
    assertThat(store.rows()).isEmpty();
  }

  /**
   * Without the settable clock moving, the batch still ends: its wait for the acknowledgement is a
   * real {@code poll} bounded by the publish timeout, 100 ms here so the test stays fast. The
   * transport is asked about the timeout with the time the event was handed to it, by {@link
   * System#nanoTime()}.
   */
  @Test
  void batchWaitingForAnAcknowledgementEndsAtThePublishTimeout() {
    RelayNode relay = takeOver(Duration.ofMillis(100));
    OutboxEvent silent = events.event("orders", "order-1");
    store.append(silent);
    transport.holdEvent(silent.id(), 1);
    long[] handedOver = new long[1];
    transport.onSend(event -> handedOver[0] = System.nanoTime());
    long before = System.nanoTime();

    relay.cycle();

    assertThat(row(silent).attempts()).isEqualTo(1);
    assertThat(row(silent).lastError()).contains("within 100 ms");
    assertThat(transport.classified()).singleElement().isInstanceOf(PublishTimeoutException.class);
    long sent = ((PublishTimeoutException) transport.classified().get(0)).sentNanos();
    assertThat(sent - before).as("sent after the cycle began").isNotNegative();
    assertThat(handedOver[0] - sent).as("sent before the transport had the event").isNotNegative();
  }

  /**
   * A send that blocks in the transport past the batch's deadline (Kafka with a full producer
   * buffer): the batch sends no other chain's first event. Before, it went on handing every key's
   * first event to the transport, each send blocking again, however long that took.
   */
  @Test
  void aSendBlockedPastTheDeadlineEndsTheBatchAndTheUnsentKeysStayUncharged() {
    OutboxEvent next =
        sendBlockingFor(
            Duration.ofSeconds(1), // within the lease, past the publish timeout
            Duration.ofSeconds(1),
            events.event("orders", "order-1"),
            events.event("orders", "order-2"));

    assertThat(row(next).lastError()).isNull();
    assertThat(outcome.more()).as("the unsent key's slot is read again at once").isTrue();
  }

  @Test
  void chainStopsOnceTheLeaseIsNoLongerKnownToBeValidAndTheRestStaysUncharged() {
    sendBlockingFor(
        RelayNode.LEASE_TIMEOUT,
        Duration.ofSeconds(30),
        events.event("orders", "order-1"),
        events.event("orders", "order-1"));
  }

  /** The outcome of {@link #sendBlockingFor}'s cycle. */
  private BatchPublisher.Outcome outcome;

  /**
   * A second node, publishing with {@code publishTimeout}, takes every slot over and cycles once
   * over {@code first} and {@code second}, the send of {@code first} taking {@code blocked} on the
   * relay's clock: only {@code first} goes out and is recorded, {@code second} stays uncharged.
   * Returns {@code second}.
   */
  private OutboxEvent sendBlockingFor(
      Duration blocked, Duration publishTimeout, OutboxEvent first, OutboxEvent second) {
    RelayNode relay = takeOver(publishTimeout);
    store.append(first, second);
    transport.onSend(
        event -> {
          if (event.id().equals(first.id())) {
            clock.advance(blocked);
          }
        });

    outcome = relay.cycle();

    assertThat(transport.sentIds()).containsExactly(first.id());
    assertThat(store.row(first.id())).as("acknowledged, the slot still held: recorded").isEmpty();
    assertThat(row(second).attempts()).isZero();
    return second;
  }

  /**
   * A retry whose recording was fenced off (the slots went to another instance while the event was
   * in flight) leaves the event pending and due at once in the table; the relay does not hold its
   * key back for that retry, so when the slots come back the event goes out at once. Before, the
   * key stayed held here for the retry's backoff (up to {@code outbox.retry.max-backoff}), though
   * no relay had recorded it.
   */
  @Test
  void aRetryFencedOffByAnotherInstanceDoesNotHoldItsKeyWhenTheSlotsComeBack() {
    OutboxEvent fenced = events.event("orders", "order-1");
    store.append(fenced);
    transport.failEvent(fenced.id(), 1, Kind.RETRYABLE);
    RelayNode[] other = new RelayNode[1];
    transport.onSend(
        event -> {
          if (event.id().equals(fenced.id()) && other[0] == null) {
            store.leave(node.member); // the lease lapsed; another instance takes every slot
            other[0] = new RelayNode(store, transport, clock, "node-b");
            other[0].tick();
          }
        });

    node.cycle();

    assertThat(row(fenced).attempts()).as("the retry was not recorded").isZero();
    store.leave(other[0].member);
    node.tick();
    assertThat(node.owned()).as("the slots came back").isEqualTo(64);
    transport.onSend(event -> {});

    node.cycle();

    assertThat(transport.sentIds())
        .as("sent again at once, not after the retry's backoff")
        .containsExactly(fenced.id(), fenced.id());
    assertThat(store.rows()).isEmpty();
  }

  /** A second node, publishing with {@code publishTimeout}, that takes every slot over. */
  private RelayNode takeOver(Duration publishTimeout) {
    RelayNode relay =
        new RelayNode(store, transport, clock, "node-b", publishTimeout, RelayNode.RETRIES, 100);
    store.leave(node.member);
    relay.tick();
    return relay;
  }

  /** Cycles the node, at most 5 batches, until {@code events} went out; returns the refusals. */
  private List<BrokerUnavailableException> cycleUntilPublished(OutboxEvent... events) {
    int cycles = 0;
    List<BrokerUnavailableException> refusals = new ArrayList<>();
    while (Arrays.stream(events).anyMatch(event -> store.row(event.id()).isPresent())) {
      assertThat(cycles++)
          .as("batches until the other destination's events went out")
          .isLessThan(5);
      try {
        node.cycle();
      } catch (BrokerUnavailableException refused) {
        refusals.add(refused);
      }
    }
    return refusals;
  }

  /**
   * While "shut" is closed, a batch sends none of its events; once it takes events and its closure
   * ended, all of them go out, none charged, and it is open again.
   */
  private void shutIsNotReadAgainWhileClosedAndGoesOutUnchargedOnceOpen() {
    int sendsToShut =
        (int)
            transport.sends().stream().filter(s -> s.event().destination().equals("shut")).count();
    node.cycle();
    assertThat(transport.sends())
        .as("while closed, its events are not read again")
        .filteredOn(send -> send.event().destination().equals("shut"))
        .hasSize(sendsToShut);

    transport.failDestination("shut", 0, Kind.DESTINATION_UNAVAILABLE);
    clock.advance(HeldKeys.FIRST_CLOSURE);
    int cycles = 0;
    while (!store.rows().isEmpty()) {
      assertThat(cycles++).as("batches until every event of \"shut\" went out").isLessThan(30);
      node.cycle();
    }

    assertThat(transport.sends()).allMatch(send -> send.attempts() == 0, "nothing charged");
    assertThat(node.heldKeys.anyClosed()).as("opened by the events that went through").isFalse();
  }
}
