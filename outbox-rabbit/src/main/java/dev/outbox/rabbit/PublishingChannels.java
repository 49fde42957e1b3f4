package dev.outbox.rabbit;

import com.rabbitmq.client.BlockedListener;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ShutdownSignalException;
import dev.outbox.OutboxException;
import dev.outbox.concurrent.NamedThreads;
import dev.outbox.transport.Failures;
import java.io.IOException;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;

/**
 * The transport's publishing channels: a few AMQP channels in confirm mode on the application's
 * publisher connection, each with its own stream of confirms. The messages of one key always take
 * the same channel, so messages of a key handed over one after the other reach a queue in that
 * order; unkeyed messages take the channels in turn.
 *
 * <p>A message that fails because of another message is published again. When the broker closes a
 * channel for one message (a missing exchange, access refused, a message too large), the messages
 * on it that did not cause the close are published again on another channel, their futures still
 * pending; only the culprits fail (see {@link ChannelClose}). When the connection drops, every
 * unconfirmed message is published again (on a new connection, or it fails as unavailable if none
 * can be opened). A write that the socket fails (reset, broken pipe) before the client has noticed
 * counts as the connection dropping: the connection is aborted and the message written once more on
 * a new one; if that write fails too, the message fails as unavailable. A message is published
 * again at most {@link #MAX_RESENDS} times, so one that keeps closing channels in a way that cannot
 * be pinned on it still ends.
 *
 * <p>Systemic failures fail with {@link RabbitUnavailableException}: no connection can be opened
 * (while that lasts, one publish per second tries and the others fail at once), or the broker
 * blocks the connection (memory or disk alarm): then the unconfirmed messages fail at once and no
 * message is written until the broker unblocks it.
 */
final class PublishingChannels implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(PublishingChannels.class);

  /** How often one message is published again after its channel closed under it. */
  static final int MAX_RESENDS = 3;

  /**
   * After a failed connection attempt, publishes fail at once for this long instead of each waiting
   * for its own attempt (which can take the whole connection timeout).
   */
  private static final long RECONNECT_PAUSE_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final ConnectionFactory connectionFactory;
  private final DeadLetterExchange deadLetters;
  private final Slot[] slots;
  private final AtomicInteger turn = new AtomicInteger();
  private final ReentrantLock connecting = new ReentrantLock();
  private final ThreadPoolExecutor resender;
  private volatile @Nullable Connection connection;
  private volatile @Nullable String blocked;
  private volatile boolean closed;
  private @Nullable RabbitUnavailableException lastConnectFailure;
  private long lastConnectFailureNanos;
  private final AtomicLong lastAnswerNanos = new AtomicLong(System.nanoTime());

  PublishingChannels(
      ConnectionFactory connectionFactory, DeadLetterExchange deadLetters, int channels) {
    ConnectionFactory publisher = connectionFactory.getPublisherConnectionFactory();
    this.connectionFactory = publisher == null ? connectionFactory : publisher;
    this.deadLetters = deadLetters;
    this.slots = new Slot[channels];
    for (int i = 0; i < channels; i++) {
      slots[i] = new Slot();
    }
    this.resender =
        new ThreadPoolExecutor(
            0,
            1,
            30,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            new NamedThreads("outbox-rabbit-resend"));
  }

  /** Publishes {@code publish} on its key's channel; failures complete its future. */
  void publish(Publish publish) {
    if (closed) {
      publish.failed(new OutboxException("The RabbitMQ outbox transport is closed"));
      return;
    }
    String blockedNow = blocked;
    if (blockedNow != null) {
      publish.failed(blocked(blockedNow));
      return;
    }
    String key = publish.key;
    int position = key == null ? turn.getAndIncrement() : key.hashCode();
    Slot slot = slots[Math.floorMod(position, slots.length)];
    slot.lock.lock();
    try {
      for (int tries = 1; ; tries++) {
        ConfirmingChannel channel = null;
        try {
          channel = slot.open();
          // Here, not only where a channel is opened: an open channel is reused, and failures
          // that close none (returns, nacks) would leave the exchange missing for good.
          deadLetters.recheckIfDue(channel.connection());
          channel.publish(publish);
          return;
        } catch (IOException ex) {
          // A socket that fails a write (reset, broken pipe) is the connection's failure, not the
          // message's; the client may not have noticed yet, so drop the connection: the next try
          // opens a new one, and the channels' unconfirmed messages are published again.
          boolean connectionFailed = Failures.causedBy(ex, SocketException.class);
          if (connectionFailed && channel != null) {
            channel.abortConnection();
          }
          if (tries >= 2) {
            publish.failed(
                connectionFailed
                    ? new RabbitUnavailableException(
                        "The connection to RabbitMQ failed while publishing to "
                            + publish.destination
                            + ": "
                            + Failures.describe(ex),
                        ex)
                    : RabbitPublishException.unconfirmed(
                        publish.destination, "its channel could not take it: " + ex.getMessage()));
            return;
          }
        }
      }
    } catch (RabbitUnavailableException ex) {
      publish.failed(ex);
    } finally {
      slot.lock.unlock();
    }
  }

  /** Why the broker counts as unavailable now, or null. */
  @Nullable String unavailableReason() {
    String blockedNow = blocked;
    if (blockedNow != null) {
      return blocked(blockedNow).getMessage();
    }
    return deadLetters.missing() ? deadLetters.unavailableReason() : null;
  }

  /**
   * Whether the broker has answered nothing on the transport's channels since {@code sinceNanos}
   * ({@link System#nanoTime()}): no confirm, nack or return, no channel opened. It takes what is
   * written but does not process it, as a broker process stopped by SIGSTOP, or a network that
   * drops packets, would.
   */
  boolean silentSince(long sinceNanos) {
    return lastAnswerNanos.get() - sinceNanos < 0;
  }

  /** Notes an answer now; answers noted by several threads never move the time back. */
  private void answered() {
    long now = System.nanoTime();
    lastAnswerNanos.accumulateAndGet(now, (last, next) -> next - last > 0 ? next : last);
  }

  /**
   * Opens a channel on the connection. A new connection gets all its channels at once, so that a
   * broker that stops answering later cannot leave a publish waiting for a channel to open.
   */
  private ConfirmingChannel open(Slot slot) throws IOException {
    Connection before = connection;
    Connection current = connection();
    if (current != before) {
      for (Slot other : slots) {
        if (other != slot) {
          other.openIfFree();
        }
      }
    }
    try {
      return ConfirmingChannel.open(current, this::onClose, this::answered);
    } catch (IOException | RuntimeException ex) {
      if (!current.isOpen()) {
        throw new IOException("the connection closed: " + ex.getMessage(), ex);
      }
      throw new RabbitUnavailableException(
          "RabbitMQ did not open a publishing channel: " + Failures.describe(ex), ex);
    }
  }

  /** The open publisher connection, opened (and looked over) if needed. */
  private Connection connection() {
    Connection current = connection;
    if (current != null && current.isOpen()) {
      return current;
    }
    connecting.lock();
    try {
      current = connection;
      if (current != null && current.isOpen()) {
        return current;
      }
      RabbitUnavailableException recent = lastConnectFailure;
      if (recent != null && System.nanoTime() - lastConnectFailureNanos < RECONNECT_PAUSE_NANOS) {
        throw new RabbitUnavailableException(recent.getMessage(), recent.getCause());
      }
      try {
        current = connectionFactory.createConnection().getDelegate();
      } catch (RuntimeException ex) {
        RabbitUnavailableException failure =
            new RabbitUnavailableException(
                "No connection to RabbitMQ at "
                    + connectionFactory.getHost()
                    + ":"
                    + connectionFactory.getPort()
                    + ": "
                    + ex.getMessage(),
                ex);
        lastConnectFailure = failure;
        lastConnectFailureNanos = System.nanoTime();
        throw failure;
      }
      lastConnectFailure = null;
      blocked = null;
      current.addBlockedListener(watchBlocking(current));
      connection = current;
      deadLetters.check(current);
      return current;
    } finally {
      connecting.unlock();
    }
  }

  private BlockedListener watchBlocking(Connection watched) {
    return new BlockedListener() {
      @Override
      public void handleBlocked(String reason) {
        if (connection != watched) {
          return;
        }
        blocked = reason;
        RabbitUnavailableException failure = blocked(reason);
        log.warn(
            "{}; unconfirmed messages fail and none is sent until it unblocks",
            failure.getMessage());
        for (Slot slot : slots) {
          ConfirmingChannel channel = slot.channel;
          if (channel != null) {
            channel.failUnconfirmed(failure);
          }
        }
      }

      @Override
      public void handleUnblocked() {
        if (connection == watched && blocked != null) {
          blocked = null;
          log.info("RabbitMQ unblocked the outbox's publishing connection");
        }
      }
    };
  }

  private static RabbitUnavailableException blocked(String reason) {
    return new RabbitUnavailableException(
        "RabbitMQ blocks publishing on the outbox's connection (connection.blocked: "
            + reason
            + "); a memory or disk alarm is in effect on the broker",
        null);
  }

  /**
   * A channel closed with messages unconfirmed (on the connection's thread): fails those that
   * caused it and publishes the others again from the resend thread.
   */
  private void onClose(ShutdownSignalException cause, List<Publish> unconfirmed) {
    if (unconfirmed.isEmpty()) {
      return;
    }
    if (closed) {
      OutboxException failure = new OutboxException("The RabbitMQ outbox transport is closed");
      unconfirmed.forEach(publish -> publish.failed(failure));
      return;
    }
    ChannelClose close = ChannelClose.of(cause);
    List<Publish> again = new ArrayList<>(unconfirmed.size());
    for (Publish publish : unconfirmed) {
      if (!close.connectionLost() && close.causedBy(publish)) {
        publish.failed(RabbitPublishException.nacked(publish.destination, close.describe()));
        if (close.attributed()
            && publish.destination.exchange().equals(deadLetters.name())
            && close.describe().contains("reply-code=" + RabbitPublishException.NOT_FOUND)) {
          deadLetters.markMissing();
        }
      } else if (publish.resends >= MAX_RESENDS) {
        publish.failed(
            RabbitPublishException.unconfirmed(
                publish.destination,
                "its channel closed under it "
                    + (MAX_RESENDS + 1)
                    + " times, the last time: "
                    + close.describe()));
      } else {
        publish.resends++;
        publish.returned = null; // a return on the closed channel says nothing about the next try
        again.add(publish);
      }
    }
    if (again.isEmpty()) {
      return;
    }
    log.debug(
        "Publishing {} message(s) again whose channel closed: {}", again.size(), close.describe());
    try {
      resender.execute(() -> again.forEach(this::publish));
    } catch (RejectedExecutionException ex) {
      OutboxException failure = new OutboxException("The RabbitMQ outbox transport is closed");
      again.forEach(publish -> publish.failed(failure));
    }
  }

  /** Closes the channels (their unconfirmed messages fail) and stops the resend thread. */
  @Override
  public void close() {
    closed = true;
    for (Slot slot : slots) {
      slot.lock.lock();
      try {
        ConfirmingChannel channel = slot.channel;
        slot.channel = null;
        if (channel != null) {
          channel.close();
        }
      } finally {
        slot.lock.unlock();
      }
    }
    resender.shutdown();
  }

  /** One channel position, opened with the connection and reopened after a close. */
  private final class Slot {
    final ReentrantLock lock = new ReentrantLock();
    volatile @Nullable ConfirmingChannel channel;

    /** The open channel, opened if needed; the caller holds the lock. */
    ConfirmingChannel open() throws IOException {
      ConfirmingChannel current = channel;
      if (current == null || !current.isOpen()) {
        channel = null;
        current = PublishingChannels.this.open(this);
        channel = current;
      }
      return current;
    }

    /** Opens the channel now unless another thread is using this slot. */
    void openIfFree() {
      if (!lock.tryLock()) {
        return;
      }
      try {
        ConfirmingChannel current = channel;
        if (current == null || !current.isOpen()) {
          channel =
              ConfirmingChannel.open(
                  connection(),
                  PublishingChannels.this::onClose,
                  PublishingChannels.this::answered);
        }
      } catch (IOException | RuntimeException ex) {
        log.debug("Could not open a publishing channel ahead of use: {}", ex.getMessage());
      } finally {
        lock.unlock();
      }
    }
  }
}
