package dev.outbox.transport;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The failure descriptions that go into the table's last error and the dead letters' headers. */
class FailuresTests {

  @Test
  void aDescriptionIsOneLineWhateverLineBreaksTheMessagesHold() {
    Exception failure =
        new IllegalStateException(
            "first line\r\nsecond line\nthird\rfourth", new RuntimeException("cause\nmore"));

    assertThat(Failures.describe(failure))
        .isEqualTo(
            "IllegalStateException: first line second line third fourth;"
                + " caused by RuntimeException: cause more");
  }

  @Test
  void aLongDescriptionIsCutWithoutSplittingACharacterBeyondTheBasicPlane() {
    String emoji = "\uD83D\uDE00"; // one character, two UTF-16 units
    String message = "x".repeat(4000 - "IllegalStateException: ".length() - 1) + emoji + "tail";

    String described = Failures.describe(new IllegalStateException(message));

    assertThat(described).hasSize(3999).endsWith("x");
    assertThat(Failures.truncate("ab" + emoji, 3)).isEqualTo("ab");
    assertThat(Failures.truncate("ab" + emoji, 4)).isEqualTo("ab" + emoji);
    assertThat(Failures.truncate("abc", 5)).isEqualTo("abc");
  }
}
