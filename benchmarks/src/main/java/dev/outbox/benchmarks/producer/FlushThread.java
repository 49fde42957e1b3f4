package dev.outbox.benchmarks.producer;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.kafka.clients.producer.Producer;

/**
 * Flushes the producer on a thread of its own, coalescing requests made while a flush runs, as the
 * Kafka transport's flusher does: the sender never blocks on {@code flush()}.
 */
final class FlushThread implements AutoCloseable {

  private final Producer<?, ?> producer;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition requested = lock.newCondition();
  private final Thread thread;
  private boolean pending;
  private volatile boolean running = true;

  FlushThread(Producer<?, ?> producer) {
    this.producer = producer;
    this.thread = new Thread(this::run, "bench-flush");
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
        return;
      } finally {
        lock.unlock();
      }
      if (running) {
        producer.flush();
      }
    }
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
    try {
      thread.join(5000);
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
    }
  }
}
