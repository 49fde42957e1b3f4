package dev.outbox.testing;

import dev.outbox.OutboxEvent;
import dev.outbox.spring.OutboxRelayControl;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/**
 * What a test injects to see and steer the outbox: the events published to the capturing transport,
 * the events still in the table, and a synchronous drain.
 *
 * <pre>{@code
 * @SpringBootTest
 * @AutoConfigureOutboxTest
 * class OrderServiceTests {
 *   @Autowired OrderService orders;
 *   @Autowired OutboxTestKit outbox;
 *
 *   @Test
 *   void placingAnOrderPublishesOrderPlaced() {
 *     orders.place(new PlaceOrder("o-1", 2));
 *     assertThat(outbox.published()).hasPublished("OrderPlaced").to("orders").withKey("o-1");
 *   }
 * }
 * }</pre>
 */
public class OutboxTestKit {

  /** How often {@link #drain} looks again at events that wait for a retry. */
  private static final long RECHECK_NANOS = Duration.ofMillis(50).toNanos();

  private final OutboxTable table;
  private final @Nullable OutboxRelayControl relay;
  private final @Nullable CapturingOutboxTransport capture;
  private final Duration drainTimeout;

  /**
   * @param table the outbox table
   * @param relay this instance's relay control, or {@code null} if the application runs no relay
   * @param capture the capturing transport, or {@code null} if events go to a real broker
   * @param drainTimeout how long {@link #drain()} and {@link #published()} wait
   */
  public OutboxTestKit(
      OutboxTable table,
      @Nullable OutboxRelayControl relay,
      @Nullable CapturingOutboxTransport capture,
      Duration drainTimeout) {
    this.table = Objects.requireNonNull(table, "table");
    this.relay = relay;
    this.capture = capture;
    this.drainTimeout = Objects.requireNonNull(drainTimeout, "drainTimeout");
    if (drainTimeout.isNegative() || drainTimeout.isZero()) {
      throw new IllegalArgumentException(
          "outbox.test.drain-timeout must be positive, was " + drainTimeout);
    }
  }

  /**
   * What the relay published to the capturing transport since the test started, after draining what
   * was committed (unless the relay is paused).
   *
   * @throws IllegalStateException if events go to a real broker (no capturing transport), or if
   *     this application runs no relay: nothing would ever be published, and an empty answer would
   *     pass an {@code isEmpty()} assertion whatever the code under test wrote
   * @throws IllegalStateException also when called inside a transaction that wrote events: they are
   *     published only after it commits, so they would be missing from the answer
   * @throws AssertionError if committed events are not published within the drain timeout
   */
  public OutboxEvents published() {
    CapturingOutboxTransport current = capturing("published()");
    if (relay == null) {
      throw new IllegalStateException(
          "published() lists what the outbox relay published, and this application runs none"
              + " (outbox.relay.enabled=false or outbox.cdc.enabled=true): nothing is published;"
              + " read the events written with pending()");
    }
    if (!relay.isPaused()) {
      drain();
    }
    OutboxEvents published = current.published();
    // A snapshot older than the relay's deletion (REPEATABLE READ) still shows published rows
    Set<UUID> publishedIds = new HashSet<>(published.ids());
    List<OutboxEvent> uncommitted =
        table.uncommitted().stream().filter(event -> !publishedIds.contains(event.id())).toList();
    if (!uncommitted.isEmpty()) {
      throw new IllegalStateException(
          "published() runs inside the transaction that wrote "
              + uncommitted.size()
              + (uncommitted.size() == 1 ? " event" : " events")
              + ", which "
              + (uncommitted.size() == 1 ? "is" : "are")
              + " published only after that transaction commits (a @Transactional test rolls"
              + " back): assert on pending() inside it, or let the code under test commit; not"
              + " committed:"
              + OutboxEvents.of(uncommitted));
    }
    return published;
  }

  /** What the relay sent to a dead-letter destination of the capturing transport. */
  public OutboxEvents deadLettered() {
    return capturing("deadLettered()").deadLettered();
  }

  /**
   * The events in the outbox table, written and not yet published, in write order: with the relay
   * switched off ({@code outbox.relay.enabled=false}), every event the code under test wrote.
   */
  public OutboxEvents pending() {
    return table.pending();
  }

  /** The dead-lettered events in the outbox table. */
  public OutboxEvents dead() {
    return table.dead();
  }

  /** The outbox table, e.g. to {@link OutboxTable#deleteAll() clear it}. */
  public OutboxTable table() {
    return table;
  }

  /** {@link #drain(Duration)} with {@code outbox.test.drain-timeout} (30 seconds by default). */
  public void drain() {
    drain(drainTimeout);
  }

  /**
   * Publishes every committed event now and returns when the outbox table holds no pending event
   * any more, including events that failed and wait for a retry.
   *
   * @throws AssertionError listing the events still pending, with their attempts and last errors,
   *     if they are not all published within {@code timeout}
   * @throws IllegalStateException if this application runs no relay, or it is paused
   */
  public void drain(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    OutboxRelayControl control = relay;
    if (control == null) {
      throw new IllegalStateException(
          "drain() needs an outbox relay, and this application runs none: it needs an"
              + " OutboxTransport bean, outbox.relay.enabled=true and outbox.cdc.enabled=false");
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      while (true) {
        long left = deadline - System.nanoTime();
        control.drain(Duration.ofNanos(Math.max(left, 0)));
        List<OutboxTable.Row> remaining = table.rows("PENDING", true);
        if (remaining.isEmpty()) {
          return;
        }
        left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new AssertionError(notDrained(timeout, remaining));
        }
        LockSupport.parkNanos(Math.min(left, RECHECK_NANOS));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while draining the outbox", e);
    }
  }

  /** Forgets what the capturing transport captured; does nothing without one. */
  public void clear() {
    if (capture != null) {
      capture.clear();
    }
  }

  /**
   * Publishes what earlier code left committed (without failing if some of it does not go), then
   * forgets what was captured. {@link OutboxTestExecutionListener} calls it before each test
   * method.
   */
  public void reset() {
    if (capture == null) {
      return;
    }
    OutboxRelayControl control = relay;
    if (control != null && !control.isPaused()) {
      try {
        control.drain(drainTimeout);
      } catch (IllegalStateException e) {
        // The context is not running: nothing is being published.
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("Interrupted while draining the outbox", e);
      }
    }
    capture.clear();
  }

  /** Whether events go to the capturing transport. */
  public boolean isCapturing() {
    return capture != null;
  }

  private CapturingOutboxTransport capturing(String method) {
    if (capture == null) {
      throw new IllegalStateException(
          "Events go to a real transport, not to the capturing one: "
              + method
              + " needs outbox.test.capture=true (@AutoConfigureOutboxTest(capture = true)) and no"
              + " OutboxTransport bean of the test's own");
    }
    return capture;
  }

  private static String notDrained(Duration timeout, List<OutboxTable.Row> remaining) {
    StringBuilder message =
        new StringBuilder("The outbox relay did not publish ")
            .append(remaining.size())
            .append(remaining.size() == 1 ? " event" : " events")
            .append(" within ")
            .append(timeout)
            .append("; still pending:");
    for (OutboxTable.Row row : remaining) {
      message.append("\n  ").append(row.describe());
    }
    return message.toString();
  }
}
