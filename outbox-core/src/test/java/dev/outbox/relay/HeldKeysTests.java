package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Keys held back for an unavailable destination, on a monotonic clock the test moves. */
class HeldKeysTests {

  private static final Duration MAX_ERROR_BACKOFF = Duration.ofSeconds(5);

  private final AtomicLong nanos = new AtomicLong();
  private final HeldKeys keys = new HeldKeys(nanos::get);

  private void hold(String key, Duration workerPause) {
    keys.holdUnavailable(Map.of(key, "orders"), workerPause, MAX_ERROR_BACKOFF);
  }

  private void advanceMillis(long millis) {
    nanos.addAndGet(millis * 1_000_000);
  }

  @Test
  void aKeyKeptAgainAndAgainIsHeldTwiceTheErrorBackoffDoublingUpTo10Seconds() {
    long[] holds = new long[8];
    for (int i = 0; i < holds.length; i++) {
      hold("order-1", Duration.ZERO);
      holds[i] = keys.nanosUntilNextDue() / 1_000_000;
      advanceMillis(holds[i]); // tried again as soon as it is due, and kept again
      assertThat(keys.current()).isEmpty();
    }

    assertThat(holds).containsExactly(200, 400, 800, 1_600, 3_200, 6_400, 10_000, 10_000);
  }

  @Test
  void aKeyIsHeldTwiceTheWorkersPauseWhenThatIsLongerThanItsOwnStep() {
    hold("order-1", Duration.ofSeconds(5));

    assertThat(keys.nanosUntilNextDue()).isEqualTo(10_000_000_000L);
  }

  @Test
  void aKeyIsUnavailableUntilItsEventGoesThrough() {
    hold("order-1", Duration.ZERO);
    hold("order-2", Duration.ZERO);
    assertThat(keys.current()).containsExactlyInAnyOrder("order-1", "order-2");

    keys.settled("order-1");
    assertThat(keys.anyUnavailable()).isTrue();
    keys.settled("order-2");

    assertThat(keys.anyUnavailable()).isFalse();
  }

  @Test
  void aKeyNotTriedAgainWithinTwiceItsHoldIsForgottenAndStartsOverAtTheFirstStep() {
    hold("order-1", Duration.ZERO);
    advanceMillis(399); // held 200 ms, remembered 400 ms
    assertThat(keys.anyUnavailable()).isTrue();
    advanceMillis(1);
    assertThat(keys.anyUnavailable())
        .as("its slot may have moved to another instance: it no longer holds the health back")
        .isFalse();

    hold("order-1", Duration.ZERO);

    assertThat(keys.nanosUntilNextDue()).isEqualTo(200_000_000L);
  }

  @Test
  void anEventThatWentThroughToTheSameDestinationFreesTheKeysHeldForItButNoOthers() {
    keys.holdUnavailable(
        Map.of("order-1", "orders", "order-2", "orders", "audit-1", "audit"),
        Duration.ZERO,
        MAX_ERROR_BACKOFF);

    keys.available("orders");

    assertThat(keys.current()).containsExactly("audit-1");
    assertThat(keys.anyUnavailable()).isTrue();
    keys.available("audit");
    assertThat(keys.current()).isEmpty();
    assertThat(keys.anyUnavailable()).isFalse();
  }

  @Test
  void releasingEndsTheHoldsButTheKeysStillCountAsUnavailable() {
    hold("order-1", Duration.ZERO);
    keys.hold("order-2", 60_000); // a retry not yet due

    assertThat(keys.releaseUnavailable()).isTrue();

    assertThat(keys.current()).containsExactly("order-2");
    assertThat(keys.anyUnavailable()).isTrue();
    assertThat(keys.releaseUnavailable()).as("nothing left to release").isFalse();
  }

  @Test
  void aHoldForARetryIsNotShortenedByAShorterOneForAnUnavailableDestination() {
    keys.hold("order-1", 60_000);
    hold("order-1", Duration.ZERO);
    keys.releaseUnavailable();
    keys.available("orders");

    assertThat(keys.nanosUntilNextDue()).isEqualTo(60_000_000_000L);
  }
}
