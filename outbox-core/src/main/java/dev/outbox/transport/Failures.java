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

  /**
   * A one-line description: the root-most meaningful message with its class, its causes after it,
   * line breaks replaced by spaces, at most 4,000 characters.
   */
  public static String describe(Throwable failure) {
    Throwable t = unwrap(failure);
    StringBuilder out = new StringBuilder();
    while (t != null) {
      if (out.length() > 0) {
        out.append("; caused by ");
      }
      out.append(t.getClass().getSimpleName());
      if (t.getMessage() != null) {
        out.append(": ").append(oneLine(t.getMessage()));
      }
      if (t.getCause() == t || out.length() > 2000) {
        break;
      }
      t = t.getCause();
    }
    return truncate(out.toString(), 4000);
  }

  /** {@code text} with each line break (CR, LF or CRLF) replaced by a space. */
  static String oneLine(String text) {
    return text.replace("\r\n", " ").replace('\n', ' ').replace('\r', ' ');
  }

  /**
   * At most the first {@code max} characters of {@code text}, one fewer where the cut would split a
   * surrogate pair (a character beyond the Basic Multilingual Plane, such as an emoji).
   */
  public static String truncate(String text, int max) {
    if (text.length() <= max) {
      return text;
    }
    int end = Character.isHighSurrogate(text.charAt(max - 1)) ? max - 1 : max;
    return text.substring(0, end);
  }
}
