package dev.outbox.spring;

import java.time.Duration;

/**
 * Pauses, resumes and drains this instance's outbox relay; a bean of the starter whenever the
 * outbox is configured. Writing events is never affected: a paused relay only stops publishing.
 *
 * <pre>{@code
 * @Autowired OutboxRelayControl relay;
 *
 * relay.pause();    // e.g. while the broker is in maintenance; other instances take over
 * relay.resume();
 * relay.drain(Duration.ofSeconds(30));   // in a test: publish what is due, then return
 * }</pre>
 */
public interface OutboxRelayControl {

  /**
   * Stops publishing from this instance until {@link #resume()}: the batches in flight finish (up
   * to {@code outbox.relay.shutdown-timeout}), then this instance's slots are released so other
   * instances take them over at once. Survives a stop and start of the application context. Does
   * nothing if already paused.
   *
   * @throws IllegalStateException if this instance has no relay (no transport, or {@code
   *     outbox.relay.enabled=false})
   */
  void pause();

  /** Publishes again after {@link #pause()}. Does nothing if not paused. */
  void resume();

  /** Whether {@link #pause()} was called and {@link #resume()} has not been since. */
  boolean isPaused();

  /**
   * Wakes the relay for every slot and waits until no event in the table is due (retries still
   * waiting for their backoff do not count), or until {@code timeout}. Events of slots other
   * instances hold are published by those instances; this waits for them too.
   *
   * @return true if nothing was due any more within the timeout
   * @throws IllegalStateException if this instance has no running relay (none configured, paused,
   *     or the application context is not running)
   */
  boolean drain(Duration timeout) throws InterruptedException;
}
