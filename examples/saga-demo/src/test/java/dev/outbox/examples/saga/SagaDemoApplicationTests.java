package dev.outbox.examples.saga;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The demo's own arguments: what it accepts and what makes it exit with status 2. */
class SagaDemoApplicationTests {

  @Test
  void aTimeoutIsADurationInSecondsOrMinutes() {
    assertThat(SagaDemoApplication.parseTimeout("120s")).isEqualTo(Duration.ofSeconds(120));
    assertThat(SagaDemoApplication.parseTimeout("3m")).isEqualTo(Duration.ofMinutes(3));
  }

  /** Not a duration, or no time at all (the saga would fail at once instead of being refused). */
  @ParameterizedTest
  @ValueSource(strings = {"abc", "", "0s", "-5s"})
  void anInvalidTimeoutIsRefusedNamingTheValueAndTheFormExpected(String value) {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> SagaDemoApplication.parseTimeout(value))
        .withMessage("Invalid --saga.timeout '" + value + "': use a duration such as 120s or 3m");
  }

  @Test
  void anUnknownTransportIsRefusedNamingTheValueAndTheChoices() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> SagaTransport.parse("x"))
        .withMessage("Invalid --saga.transport 'x': use kafka or rabbit");
  }
}
