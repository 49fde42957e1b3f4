package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.OutboxException;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class RelayTimingTests {

  private static final Duration ZERO = Duration.ZERO;
  private static final Duration MAX_ERROR_BACKOFF = OutboxDefaults.MAX_ERROR_BACKOFF;

  @Test
  void rejectsALeaseTimeoutShorterThanThreePollIntervalsNamingBothValues() {
    assertThatThrownBy(
            () ->
                new RelayTiming(
                    Duration.ofSeconds(1),
                    Duration.ofSeconds(5),
                    Duration.ofMillis(2999),
                    ZERO,
                    MAX_ERROR_BACKOFF))
        .isInstanceOf(OutboxException.class)
        .hasMessage(
            "Invalid outbox relay setting: leaseTimeout (2999 ms) must be at least 3 x"
                + " pollInterval (1000 ms): leases are renewed once per poll interval");
  }

  @Test
  void acceptsALeaseTimeoutOfExactlyThreePollIntervals() {
    RelayTiming timing =
        new RelayTiming(
            Duration.ofSeconds(1),
            Duration.ofSeconds(5),
            Duration.ofSeconds(3),
            ZERO,
            MAX_ERROR_BACKOFF);

    assertThat(timing.renewInterval()).isEqualTo(Duration.ofSeconds(1));
  }

  @Test
  void rejectsAPublishTimeoutShorterThanTwiceTheTransportsLongestBlockNamingBothValues() {
    assertThatThrownBy(
            () ->
                new RelayTiming(
                    Duration.ofSeconds(1),
                    Duration.ofMillis(1999),
                    Duration.ofSeconds(10),
                    Duration.ofSeconds(1),
                    MAX_ERROR_BACKOFF))
        .isInstanceOf(OutboxException.class)
        .hasMessage(
            "Invalid outbox relay setting: publishTimeout (1999 ms) must be at least twice the"
                + " transport's longest blocking send (1000 ms, e.g. Kafka's max.block.ms): one"
                + " blocked send would otherwise use up a whole batch");
  }

  @Test
  void acceptsAPublishTimeoutOfExactlyTwiceTheTransportsLongestBlock() {
    RelayTiming timing =
        new RelayTiming(
            Duration.ofSeconds(1),
            Duration.ofSeconds(2),
            Duration.ofSeconds(10),
            Duration.ofSeconds(1),
            MAX_ERROR_BACKOFF);

    assertThat(timing.publishTimeout()).isEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void builderChecksThePublishTimeoutAgainstTheTransportsMaxBlock() {
    OutboxRelay.Builder builder =
        OutboxRelay.builder()
            .repository(new InMemoryOutboxRepository(Clock.systemUTC()))
            .transport(new RecordingTransport().maxBlock(Duration.ofSeconds(3)))
            .pollInterval(Duration.ofSeconds(1))
            .leaseTimeout(Duration.ofSeconds(10))
            .publishTimeout(Duration.ofSeconds(5));

    assertThatThrownBy(builder::build)
        .isInstanceOf(OutboxException.class)
        .hasMessageStartingWith(
            "Invalid outbox relay setting: publishTimeout (5000 ms) must be at least twice the"
                + " transport's longest blocking send (3000 ms,");
  }

  @Test
  void builderChecksTheLeaseTimeoutAgainstThePollInterval() {
    OutboxRelay.Builder builder =
        OutboxRelay.builder()
            .repository(new InMemoryOutboxRepository(Clock.systemUTC()))
            .transport(new RecordingTransport())
            .pollInterval(Duration.ofSeconds(2))
            .leaseTimeout(Duration.ofSeconds(5));

    assertThatThrownBy(builder::build)
        .isInstanceOf(OutboxException.class)
        .hasMessage(
            "Invalid outbox relay setting: leaseTimeout (5000 ms) must be at least 3 x"
                + " pollInterval (2000 ms): leases are renewed once per poll interval");
  }

  @Test
  void theDatabaseTimeoutIsTheLeaseTimeoutAtLeastFiveSecondsAndARebalanceWaitsAThirdOfTheLease() {
    RelayTiming defaults =
        new RelayTiming(
            Duration.ofSeconds(1),
            Duration.ofSeconds(5),
            Duration.ofSeconds(10),
            Duration.ZERO,
            Duration.ofSeconds(5));
    assertThat(defaults.databaseTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(defaults.rebalanceTimeout()).isEqualTo(Duration.ofMillis(3_333).plusNanos(333_333));

    RelayTiming shortLease =
        new RelayTiming(
            Duration.ofMillis(100),
            Duration.ofSeconds(5),
            Duration.ofMillis(600),
            Duration.ZERO,
            Duration.ofSeconds(5));
    assertThat(shortLease.databaseTimeout())
        .as("a slow but healthy statement is not cut short")
        .isEqualTo(Duration.ofSeconds(5));
    assertThat(shortLease.rebalanceTimeout()).isEqualTo(Duration.ofMillis(200));
  }

  @Test
  void rejectsNonPositiveDurations() {
    assertThatThrownBy(
            () ->
                new RelayTiming(
                    ZERO, Duration.ofSeconds(5), Duration.ofSeconds(10), ZERO, MAX_ERROR_BACKOFF))
        .hasMessage("Invalid outbox relay setting: pollInterval must be positive, was PT0S");
    assertThatThrownBy(
            () ->
                new RelayTiming(
                    Duration.ofSeconds(1),
                    Duration.ofMillis(-1),
                    Duration.ofSeconds(10),
                    ZERO,
                    MAX_ERROR_BACKOFF))
        .hasMessage("Invalid outbox relay setting: publishTimeout must be positive, was PT-0.001S");
    assertThatThrownBy(
            () ->
                new RelayTiming(
                    Duration.ofSeconds(1),
                    Duration.ofSeconds(5),
                    Duration.ofSeconds(10),
                    ZERO,
                    ZERO))
        .hasMessage("Invalid outbox relay setting: maxErrorBackoff must be positive, was PT0S");
  }

  @Test
  void leasesAreRenewedTenTimesPerPollIntervalWhileSlotsMoveButNotMoreOftenThanEvery20Ms() {
    assertThat(settleIntervalFor(Duration.ofSeconds(1))).isEqualTo(Duration.ofMillis(100));
    assertThat(settleIntervalFor(Duration.ofMillis(100))).isEqualTo(Duration.ofMillis(20));
    assertThat(settleIntervalFor(Duration.ofMillis(10))).isEqualTo(Duration.ofMillis(10));
  }

  private static Duration settleIntervalFor(Duration pollInterval) {
    return new RelayTiming(
            pollInterval, Duration.ofSeconds(5), Duration.ofSeconds(10), ZERO, MAX_ERROR_BACKOFF)
        .settleInterval();
  }
}
