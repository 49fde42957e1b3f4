package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class RetryPolicyTests {

  @Test
  void backoffGrowsExponentiallyUpToTheCap() {
    RetryPolicy policy =
        RetryPolicy.defaults()
            .withInitialBackoff(Duration.ofMillis(100))
            .withMultiplier(2)
            .withMaxBackoff(Duration.ofMillis(1000))
            .withJitter(0);
    assertThat(policy.backoff(1)).isEqualTo(Duration.ofMillis(100));
    assertThat(policy.backoff(2)).isEqualTo(Duration.ofMillis(200));
    assertThat(policy.backoff(4)).isEqualTo(Duration.ofMillis(800));
    assertThat(policy.backoff(5)).isEqualTo(Duration.ofMillis(1000));
    assertThat(policy.backoff(60)).isEqualTo(Duration.ofMillis(1000));
  }

  @Test
  void jitterSpreadsWithinTheConfiguredFraction() {
    RetryPolicy policy =
        RetryPolicy.defaults().withInitialBackoff(Duration.ofSeconds(1)).withJitter(0.2);
    for (int i = 0; i < 1000; i++) {
      assertThat(policy.backoff(1).toMillis()).isBetween(800L, 1200L);
    }
  }

  @Test
  void exhaustedByAttemptsOrByAge() {
    Instant now = Instant.now();
    RetryPolicy policy = RetryPolicy.defaults().withMaxAttempts(3);
    assertThat(policy.isExhausted(2, now, now)).isFalse();
    assertThat(policy.isExhausted(3, now, now)).isTrue();
    RetryPolicy aged = policy.withMaxAge(Duration.ofMinutes(1));
    assertThat(aged.isExhausted(1, now.minusSeconds(61), now)).isTrue();
    assertThat(aged.isExhausted(1, now.minusSeconds(59), now)).isFalse();
  }

  @Test
  void rejectsInvalidSettings() {
    assertThatThrownBy(() -> RetryPolicy.defaults().withMaxAttempts(0))
        .hasMessageContaining("maxAttempts");
    assertThatThrownBy(() -> RetryPolicy.defaults().withMultiplier(0.5))
        .hasMessageContaining("multiplier");
    assertThatThrownBy(() -> RetryPolicy.defaults().withJitter(2)).hasMessageContaining("jitter");
    assertThatThrownBy(() -> RetryPolicy.defaults().withMaxBackoff(Duration.ofMillis(1)))
        .hasMessageContaining("shorter than initialBackoff");
  }
}
