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

  public static DeadLetter of(Throwable failure, int attempts) {
    String message = failure.getMessage();
    return new DeadLetter(
        message == null ? failure.getClass().getSimpleName() : message,
        failure.getClass().getName(),
        attempts);
  }
}
