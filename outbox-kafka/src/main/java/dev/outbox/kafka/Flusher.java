package dev.outbox.kafka;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Flushes the producer on a thread of its own. {@code KafkaProducer.flush()} sends everything
 * buffered at once (ignoring {@code linger.ms}) but blocks until it is acknowledged; the relay must
 * not block on it, since it waits for the send futures with its own timeout. Requests that arrive
 * while a flush runs are coalesced into the next one.
 */
final class Flusher implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Flusher.class);

  private final Runnable flush;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition requested = lock.newCondition();
  private boolean pending;
  private volatile boolean running = true;
  private final Thread thread;

  Flusher(Runnable flush) {
    this.flush = flush;
    this.thread = new Thread(this::run, "outbox-kafka-flush");
    this.thread.setDaemon(true);
    this.thread.start();
  }

  void request() {
    lock.lock();
    try {
      pending = true;
      requested.signal();
    } finally {
      lock.unlock();
    }
  }

  private void run() {
    while (running) {
      lock.lock();
      try {
        while (!pending && running) {
          requested.await();
        }
        pending = false;
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        return;
      } finally {
        lock.unlock();
      }
      if (!running) {
        return;
      }
      try {
        flush.run();
      } catch (RuntimeException ex) {
        log.debug("Kafka producer flush failed: {}", ex.getMessage());
      }
    }
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
  }
}
