package dev.outbox.testing;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Settings of the test kit, {@code outbox.test.*}; {@link AutoConfigureOutboxTest} sets them from
 * its attributes.
 */
@ConfigurationProperties(prefix = "outbox.test")
public class OutboxTestProperties {

  /** The default of {@code outbox.test.drain-timeout}. */
  public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(30);

  /**
   * Whether the relay publishes to an in-memory capturing transport instead of the broker. Backs
   * off when the test defines an OutboxTransport bean of its own.
   */
  private boolean capture = true;

  /**
   * How many times each event is delivered, with the same id, through the transport (the capturing
   * one or the real broker's); 1 delivers once, 2 to 10 duplicate.
   */
  private int duplicateCopies = 1;

  /**
   * How long after the first delivery the duplicate copies follow; 0 sends them at once, before the
   * relay deletes the row.
   */
  private Duration duplicateDelay = Duration.ZERO;

  /** How long OutboxTestKit.drain() and published() wait for the relay. */
  private Duration drainTimeout = DEFAULT_DRAIN_TIMEOUT;

  public boolean isCapture() {
    return capture;
  }

  public void setCapture(boolean capture) {
    this.capture = capture;
  }

  public int getDuplicateCopies() {
    return duplicateCopies;
  }

  public void setDuplicateCopies(int duplicateCopies) {
    this.duplicateCopies = duplicateCopies;
  }

  public Duration getDuplicateDelay() {
    return duplicateDelay;
  }

  public void setDuplicateDelay(Duration duplicateDelay) {
    this.duplicateDelay = duplicateDelay;
  }

  public Duration getDrainTimeout() {
    return drainTimeout;
  }

  public void setDrainTimeout(Duration drainTimeout) {
    this.drainTimeout = drainTimeout;
  }
}
