package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.outbox.test.LogCapture;
import java.net.ConnectException;
import java.sql.SQLException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The relay's one health verdict from all its components, and the lines it logs: a failure once as
 * WARN (again only when the kind of failure changes), the recovery once as INFO with the number of
 * failed cycles. These are the lines docs/operations.md and docs/guarantees.md quote.
 */
class RelayHealthTests {

  private static final String BROKER_AWAY =
      "BrokerUnavailableException: The broker cannot be reached; 5 event(s) kept for the next"
          + " attempt; caused by ConnectException: Connection refused";

  private final SettableClock clock = new SettableClock();
  private final RelayHealth health = new RelayHealth("orders", clock, RelayListener.none());

  @Test
  void oneFailingComponentMakesTheRelayUnhealthyUntilItRecovers() {
    health.register("leases");
    health.register(RelayHealth.BROKER);
    assertThat(health.healthy()).isTrue();

    health.failed(RelayHealth.BROKER, brokerAway());
    health.ok("leases");

    assertThat(health.healthy()).isFalse();
    assertThat(health.failure()).isEqualTo("broker: " + BROKER_AWAY);
    health.ok(RelayHealth.BROKER);
    assertThat(health.healthy()).isTrue();
    assertThat(health.failure()).isNull();
  }

  @Test
  void aFailureIsLoggedOnceAsWarnThenAtDebugAndTheRecoveryOnceWithTheNumberOfFailures() {
    health.register(RelayHealth.BROKER);
    try (LogCapture log = LogCapture.of(RelayHealth.class, Level.DEBUG)) {
      for (int cycle = 0; cycle < 3; cycle++) {
        health.failed(RelayHealth.BROKER, brokerAway());
      }
      health.ok(RelayHealth.BROKER);
      health.ok(RelayHealth.BROKER);

      assertThat(log.lines())
          .containsExactly(
              "WARN Outbox relay 'orders' broker failing: " + BROKER_AWAY,
              "DEBUG Outbox relay 'orders' broker still failing (2): " + BROKER_AWAY,
              "DEBUG Outbox relay 'orders' broker still failing (3): " + BROKER_AWAY,
              "INFO Outbox relay 'orders' broker recovered after 3 failure(s)");
    }
  }

  @Test
  void aDifferentKindOfFailureIsLoggedAsWarnAgain() {
    health.register("leases");
    try (LogCapture log = LogCapture.of(RelayHealth.class)) {
      health.failed("leases", new SQLException("connection refused", "08001"));
      health.failed("leases", new SQLException("connection refused", "08001"));
      health.failed("leases", new IllegalStateException("bad row"));

      assertThat(log.warnings())
          .containsExactly(
              "WARN Outbox relay 'orders' leases failing: SQLException: connection refused",
              "WARN Outbox relay 'orders' leases failing: IllegalStateException: bad row");
    }
  }

  private static BrokerUnavailableException brokerAway() {
    return new BrokerUnavailableException(
        5, false, false, new ConnectException("Connection refused"));
  }

  @Test
  void theLastSuccessIsWhenAComponentLastReportedOk() {
    health.register("worker-1");
    assertThat(health.lastSuccess()).isNull();
    health.ok("worker-1");
    assertThat(health.lastSuccess()).isEqualTo(SettableClock.START);
    clock.advance(Duration.ofSeconds(3));
    health.failed("worker-1", new IllegalStateException("bad row"));
    assertThat(health.lastSuccess()).isEqualTo(SettableClock.START);
  }

  @Test
  void aDeadThreadIsReportedAsAFailureAndLoggedAsError() {
    health.register("worker-1");
    try (LogCapture log = LogCapture.of(RelayHealth.class)) {
      health.died("worker-1", new OutOfMemoryError("Java heap space"));

      assertThat(log.lines()).containsExactly("ERROR Outbox relay 'orders' worker-1 thread died");
    }
    assertThat(health.healthy()).isFalse();
    assertThat(health.failure()).startsWith("worker-1: thread died: ");
  }

  @Test
  void aListenerThatThrowsDoesNotStopTheFailureFromBeingRecorded() {
    RelayHealth withListener =
        new RelayHealth(
            "orders",
            clock,
            new RelayListener() {
              @Override
              public void cycleFailed(Throwable failure) {
                throw new IllegalStateException("metrics broken");
              }
            });
    withListener.register("leases");
    try (LogCapture log = LogCapture.of(RelayHealth.class)) {
      withListener.failed("leases", new IllegalStateException("bad row"));

      assertThat(log.warnings())
          .containsExactly(
              "WARN A relay listener failed; ignoring it",
              "WARN Outbox relay 'orders' leases failing: IllegalStateException: bad row");
    }
    assertThat(withListener.healthy()).isFalse();
  }
}
