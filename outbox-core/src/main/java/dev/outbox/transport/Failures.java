package dev.outbox.transport;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Helpers for transports classifying failures. */
public final class Failures {

  private Failures() {}

  /** Strips {@link CompletionException} and {@link ExecutionException} wrappers. */
  public static Throwable unwrap(Throwable failure) {
    Throwable current = failure;
    while ((current instanceof CompletionException || current instanceof ExecutionException)
        && current.getCause() != null) {
      current = current.getCause();
    }
    return current;
  }

  /** Whether {@code failure} or one of its causes is an instance of one of {@code types}. */
  @SafeVarargs
  public static boolean causedBy(Throwable failure, Class<? extends Throwable>... types) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      for (Class<? extends Throwable> type : types) {
        if (type.isInstance(t)) {
          return true;
        }
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }

  /** A one-line description: the root-most meaningful message with its class. */
  public static String describe(Throwable failure) {
    Throwable t = unwrap(failure);
    StringBuilder out = new StringBuilder();
    while (t != null) {
      if (out.length() > 0) {
        out.append("; caused by ");
      }
      out.append(t.getClass().getSimpleName());
      if (t.getMessage() != null) {
        out.append(": ").append(t.getMessage());
      }
      if (t.getCause() == t || out.length() > 2000) {
        break;
      }
      t = t.getCause();
    }
    return out.length() > 4000 ? out.substring(0, 4000) : out.toString();
  }
}
