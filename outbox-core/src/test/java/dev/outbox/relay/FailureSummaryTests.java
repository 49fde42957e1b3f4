package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.OutboxEvent;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The one line per batch outcome that names, per destination, ids, attempts and the first cause.
 */
class FailureSummaryTests {

  private record Failure(OutboxEvent event, int attempt, Throwable cause) {}

  private static Failure failure(String destination, int attempt, String cause) {
    OutboxEvent event =
        new OutboxEvent(
            new UUID(0, attempt),
            attempt,
            destination,
            "k",
            null,
            "OrderPlaced",
            1,
            "{}",
            Map.of(),
            Instant.EPOCH,
            attempt - 1);
    return new Failure(event, attempt, new IllegalStateException(cause));
  }

  private static String summary(Failure... failures) {
    return FailureSummary.of(List.of(failures), Failure::event, Failure::attempt, Failure::cause);
  }

  @Test
  void namesTheAttemptOrTheRangeOfAttemptsPerDestination() {
    assertThat(summary(failure("orders", 2, "busy")))
        .isEqualTo(
            "orders: 1 (event 00000000-0000-0000-0000-000000000002; attempt 2)"
                + " IllegalStateException: busy");
    assertThat(
            summary(
                failure("orders", 3, "busy"),
                failure("payments", 1, "gone"),
                failure("orders", 1, "later")))
        .isEqualTo(
            "orders: 2 (event 00000000-0000-0000-0000-000000000003,"
                + " 00000000-0000-0000-0000-000000000001; attempts 1–3) IllegalStateException:"
                + " busy; payments: 1 (event 00000000-0000-0000-0000-000000000001; attempt 1)"
                + " IllegalStateException: gone");
  }

  @Test
  void namesAtMostThreeIdsPerDestination() {
    assertThat(
            summary(
                failure("orders", 1, "busy"),
                failure("orders", 2, "busy"),
                failure("orders", 3, "busy"),
                failure("orders", 4, "busy")))
        .isEqualTo(
            "orders: 4 (event 00000000-0000-0000-0000-000000000001,"
                + " 00000000-0000-0000-0000-000000000002, 00000000-0000-0000-0000-000000000003, …;"
                + " attempts 1–4) IllegalStateException: busy");
  }
}
