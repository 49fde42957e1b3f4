package dev.outbox.rabbit;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ShutdownSignalException;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the dead-letter exchange exists. Looked up (a passive declare) when the transport opens a
 * connection, again by a publish every few seconds while it is missing (whether or not a channel is
 * opened), and marked missing when a dead letter is refused with 404. While it is missing, no
 * failed event could be dead-lettered, so the transport reports every failure as "broker
 * unavailable": nothing is charged or dead-lettered until the exchange is declared.
 */
final class DeadLetterExchange {

  private static final Logger log = LoggerFactory.getLogger(DeadLetterExchange.class);

  /** How often a missing exchange is looked up again. */
  static final Duration RECHECK_INTERVAL = Duration.ofSeconds(2);

  private static final long RECHECK_NANOS = RECHECK_INTERVAL.toNanos();

  private final String name;
  private volatile boolean missing;
  private final AtomicLong checkedNanos = new AtomicLong(System.nanoTime());

  DeadLetterExchange(String name) {
    this.name = name;
  }

  String name() {
    return name;
  }

  boolean missing() {
    return missing;
  }

  /**
   * Looks the exchange up again if it was missing at the last look, a while ago. Called on every
   * publish while it is missing, so it costs two volatile reads unless the lookup is due, and of
   * threads that find it due at once only one looks it up; the others go on without waiting.
   */
  void recheckIfDue(Connection connection) {
    if (!missing) {
      return;
    }
    long last = checkedNanos.get();
    long now = System.nanoTime();
    if (now - last > RECHECK_NANOS && checkedNanos.compareAndSet(last, now)) {
      check(connection);
    }
  }

  /** Looks the exchange up on {@code connection}; a failure other than 404 changes nothing. */
  synchronized void check(Connection connection) {
    checkedNanos.set(System.nanoTime());
    Channel channel = null;
    try {
      channel = connection.createChannel();
      if (channel == null) {
        return;
      }
      channel.exchangeDeclarePassive(name);
      present();
    } catch (IOException | RuntimeException ex) {
      if (notFound(ex)) {
        markMissing();
      } else {
        log.debug("Could not look up the dead-letter exchange '{}': {}", name, ex.getMessage());
      }
    } finally {
      if (channel != null && channel.isOpen()) {
        try {
          channel.close();
        } catch (IOException | TimeoutException | RuntimeException ignored) {
          // the lookup is done
        }
      }
    }
  }

  void markMissing() {
    checkedNanos.set(System.nanoTime());
    if (!missing) {
      missing = true;
      log.warn(
          "The dead-letter exchange '{}' does not exist: failed events are kept without charging an"
              + " attempt, and reported as broker unavailable, until it is declared (set"
              + " outbox.rabbit.declare-dead-letter=true, or declare it and a queue bound to it)",
          name);
    }
  }

  private void present() {
    if (missing) {
      missing = false;
      log.info("The dead-letter exchange '{}' exists now", name);
    }
  }

  /** The reason failures are reported as unavailable while the exchange is missing. */
  String unavailableReason() {
    return "the dead-letter exchange '"
        + name
        + "' does not exist, so no failed event can be dead-lettered; failures are kept without"
        + " charging an attempt until it is declared (outbox.rabbit.declare-dead-letter=true"
        + " declares it)";
  }

  private static boolean notFound(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof ShutdownSignalException shutdown
          && shutdown.getReason() instanceof AMQP.Channel.Close close
          && close.getReplyCode() == RabbitPublishException.NOT_FOUND) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }
}
