package dev.outbox;

import java.util.Map;

/**
 * Captures headers at write time, on the writing thread: trace context ({@code traceparent}) and
 * the like. Implementations must be cheap; they run inside the business transaction.
 */
@FunctionalInterface
public interface HeaderCapture {

  /** Headers to store with each event written now; may be empty. */
  Map<String, String> capture();

  static HeaderCapture none() {
    return Map::of;
  }
}
