package dev.outbox.kafka;

import dev.outbox.concurrent.NamedThreads;
import dev.outbox.concurrent.Signal;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Flushes the producer on a thread of its own. {@code KafkaProducer.flush()} sends everything
 * buffered at once (ignoring {@code linger.ms}) but blocks until it is acknowledged; the relay must
 * not block on it, since it waits for the send futures with its own timeout. Requests that arrive
 * while a flush runs are coalesced into the next one. The thread starts with the first request.
 */
final class Flusher implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Flusher.class);

  private final Runnable flush;
  private final Signal requested = new Signal();
  private @Nullable Thread thread;

  Flusher(Runnable flush) {
    this.flush = flush;
  }

  void request() {
    if (thread == null) {
      start();
    }
    requested.signal();
  }

  private synchronized void start() {
    if (thread != null || requested.isClosed()) {
      return;
    }
    Thread started = new NamedThreads("outbox-kafka").thread("flush", this::run);
    started.start();
    thread = started;
  }

  private void run() {
    try {
      while (requested.await()) {
        try {
          flush.run();
        } catch (RuntimeException ex) {
          log.debug("Kafka producer flush failed: {}", ex.getMessage());
        }
      }
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops the thread; a flush in progress is interrupted. */
  @Override
  public synchronized void close() {
    requested.close();
    if (thread != null) {
      thread.interrupt();
    }
  }
}
