package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
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
}
