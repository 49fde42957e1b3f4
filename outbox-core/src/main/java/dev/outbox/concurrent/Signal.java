package dev.outbox.concurrent;

import java.time.Duration;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A coalescing wake-up for one waiting thread: any number of {@link #signal()} calls before the
 * waiter looks count as one, and a signal sent while the waiter is busy is kept for its next {@link
 * #await}. {@link #close()} wakes the waiter for good.
 */
public final class Signal implements AutoCloseable {

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition raised = lock.newCondition();
  private boolean pending;
  private boolean closed;

  /** Raises the signal. Never blocks beyond a short lock. */
  public void signal() {
    lock.lock();
    try {
      pending = true;
      raised.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Waits until the signal is raised or closed, or {@code timeout} passes, and clears it.
   *
   * @return whether the signal was raised (false on timeout or when closed)
   * @throws InterruptedException if the waiting thread is interrupted
   */
  public boolean await(Duration timeout) throws InterruptedException {
    lock.lock();
    try {
      long nanos = timeout.toNanos();
      while (!pending && !closed && nanos > 0) {
        nanos = raised.awaitNanos(nanos);
      }
      boolean wasRaised = pending && !closed;
      pending = false;
      return wasRaised;
    } finally {
      lock.unlock();
    }
  }

  /** Waits without a time limit; see {@link #await(Duration)}. */
  public boolean await() throws InterruptedException {
    return await(Duration.ofNanos(Long.MAX_VALUE));
  }

  /** Whether {@link #close()} was called. */
  public boolean isClosed() {
    lock.lock();
    try {
      return closed;
    } finally {
      lock.unlock();
    }
  }

  /** Wakes the waiter; every later {@link #await} returns false at once. */
  @Override
  public void close() {
    lock.lock();
    try {
      closed = true;
      raised.signalAll();
    } finally {
      lock.unlock();
    }
  }
}
