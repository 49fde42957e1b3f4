package dev.outbox.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.outbox.OutboxEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class DuplicatingOutboxTransportTests {

  private final CapturingOutboxTransport capture = new CapturingOutboxTransport();

  private static OutboxEvent event(String key) {
    return new OutboxEvent(
        UUID.randomUUID(),
        1,
        "orders",
        key,
        null,
        "OrderPlaced",
        1,
        "{}",
        Map.of(),
        Instant.EPOCH,
        0);
  }

  @Test
  void sendsEveryEventTheGivenNumberOfTimesWithTheSameId() {
    DuplicatingOutboxTransport transport =
        new DuplicatingOutboxTransport(capture, 3, Duration.ZERO);
    OutboxEvent first = event("k-1");
    OutboxEvent second = event("k-2");

    assertThat(transport.send(first)).isCompleted();
    assertThat(transport.send(second)).isCompleted();

    assertThat(capture.published().ids())
        .containsExactly(first.id(), first.id(), first.id(), second.id(), second.id(), second.id());
  }

  @Test
  void withADelayTheCopiesFollowAfterTheFirstIsAcknowledged() {
    List<Runnable> later = new ArrayList<>();
    DuplicatingOutboxTransport transport =
        new DuplicatingOutboxTransport(capture, 3, Duration.ofSeconds(1), later::add);
    OutboxEvent event = event("k-1");

    assertThat(transport.send(event)).isCompleted();
    assertThat(capture.published().ids()).containsExactly(event.id());

    later.forEach(Runnable::run);
    assertThat(capture.published().ids()).containsExactly(event.id(), event.id(), event.id());
  }

  /**
   * A late copy of an event of an earlier test, arriving after the capture was cleared for the next
   * test (as the test kit does before each test method), is not counted as the next test's event.
   */
  @Test
  void aLateCopyOfAnEventSentBeforeTheCaptureWasClearedIsNotCapturedAfterIt() {
    List<Runnable> later = new ArrayList<>();
    DuplicatingOutboxTransport transport =
        new DuplicatingOutboxTransport(capture, 2, Duration.ofSeconds(1), later::add);
    OutboxEvent earlier = event("k-1");
    transport.send(earlier);

    capture.clear();
    OutboxEvent current = event("k-2");
    transport.send(current);
    later.forEach(Runnable::run);

    assertThat(capture.published().ids()).containsExactly(current.id(), current.id());
  }

  @Test
  void theDelayedCopiesComeOnTheirOwn() {
    DuplicatingOutboxTransport transport =
        new DuplicatingOutboxTransport(capture, 2, Duration.ofMillis(50));
    OutboxEvent event = event("k-1");

    transport.send(event);

    await().atMost(Duration.ofSeconds(30)).until(() -> capture.published().ids().size() == 2);
    assertThat(capture.published().ids()).containsExactly(event.id(), event.id());
  }

  @Test
  void deadLettersAreSentOnce() {
    DuplicatingOutboxTransport transport =
        new DuplicatingOutboxTransport(capture, 2, Duration.ZERO);
    transport.sendToDeadLetter(event("k-1"), new dev.outbox.transport.DeadLetter("boom", "X", 3));
    assertThat(capture.deadLettered().size()).isEqualTo(1);
  }

  @Test
  void rejectsCopiesAndDelaysOutOfRange() {
    assertThatThrownBy(() -> new DuplicatingOutboxTransport(capture, 1, Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "outbox.test.duplicate-copies must be between 2 and 10 to duplicate deliveries, was 1");
    assertThatThrownBy(() -> new DuplicatingOutboxTransport(capture, 11, Duration.ZERO))
        .hasMessage(
            "outbox.test.duplicate-copies must be between 2 and 10 to duplicate deliveries, was 11");
    assertThatThrownBy(() -> new DuplicatingOutboxTransport(capture, 2, Duration.ofMillis(-1)))
        .hasMessage("outbox.test.duplicate-delay must not be negative, was PT-0.001S");
  }
}
