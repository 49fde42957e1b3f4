package dev.outbox.transport;

import java.util.Objects;

/**
 * Why an event was dead-lettered.
 *
 * @param error the last error message
 * @param errorClass the class name of the last error
 * @param attempts delivery attempts made
 */
public record DeadLetter(String error, String errorClass, int attempts) {

  public DeadLetter {
    Objects.requireNonNull(error, "error");
    Objects.requireNonNull(errorClass, "errorClass");
  }

  /** Describes the failure with its chain of causes; the class is the unwrapped failure's. */
  public static DeadLetter of(Throwable failure, int attempts) {
    Throwable unwrapped = Failures.unwrap(failure);
    return new DeadLetter(Failures.describe(unwrapped), unwrapped.getClass().getName(), attempts);
  }
}
