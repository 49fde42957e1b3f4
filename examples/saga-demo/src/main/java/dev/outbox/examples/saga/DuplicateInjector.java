package dev.outbox.examples.saga;

import org.jspecify.annotations.Nullable;

/**
 * Publishes every message of the saga a second time — same key, body and headers, so the same id —
 * as a broker redelivery or a relay re-send after a crash would. The services' inboxes must skip
 * the copies. The copies carry a {@link #MARKER} header so that they are not copied again.
 */
interface DuplicateInjector extends AutoCloseable {

  /** Marks a copy made by an injector. */
  String MARKER = "saga-demo-duplicate";

  /** Why injecting stopped, or {@code null}. */
  @Nullable Throwable failure();

  @Override
  void close();
}
