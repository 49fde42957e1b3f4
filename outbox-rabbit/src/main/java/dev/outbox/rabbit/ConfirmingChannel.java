package dev.outbox.rabbit;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConfirmListener;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ReturnListener;
import com.rabbitmq.client.ShutdownSignalException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiConsumer;

/**
 * One AMQP channel in confirm mode and the messages published on it that the broker has not
 * confirmed yet, by publish sequence number.
 *
 * <p>Confirms are handled as they arrive on the connection's thread: an ack (possibly for many
 * messages at once) completes their futures, a nack fails them, a return marks its message so its
 * ack fails it. Whoever takes a message out of the unconfirmed map (a confirm, the channel's close,
 * or a publish that could not be written) is the one that completes it, so each completes once.
 * When the channel closes, its unconfirmed messages go to the close handler, which decides which of
 * them caused it. Every confirm and return, and the channel's opening, count as an answer from the
 * broker.
 */
final class ConfirmingChannel {

  /**
   * How long {@link #abortConnection} waits for the close to complete. The socket has already
   * failed, so the close frame cannot be written and nothing is waited for; the bound only keeps a
   * publish from waiting on a socket that fails differently.
   */
  static final int ABORT_TIMEOUT_MILLIS = 1000;

  private final Channel channel;
  private final ConcurrentSkipListMap<Long, Publish> unconfirmed = new ConcurrentSkipListMap<>();
  private final ReentrantLock writing = new ReentrantLock();
  private final Runnable answered;

  private ConfirmingChannel(Channel channel, Runnable answered) {
    this.channel = channel;
    this.answered = answered;
  }

  /**
   * Opens a channel on {@code connection} in confirm mode; {@code onClose} gets the close reason
   * and the messages it left unconfirmed, {@code answered} runs whenever the broker answers on it
   * (both on the connection's thread: they must not block).
   */
  static ConfirmingChannel open(
      Connection connection,
      BiConsumer<ShutdownSignalException, List<Publish>> onClose,
      Runnable answered)
      throws IOException {
    Channel channel = connection.createChannel();
    if (channel == null) {
      throw new IOException("RabbitMQ has no free channel on the connection (channel_max)");
    }
    ConfirmingChannel confirming = new ConfirmingChannel(channel, answered);
    channel.confirmSelect();
    answered.run();
    channel.addConfirmListener(confirming.confirms());
    channel.addReturnListener(confirming.returns());
    channel.addShutdownListener(cause -> onClose.accept(cause, confirming.takeAll()));
    return confirming;
  }

  boolean isOpen() {
    return channel.isOpen();
  }

  /** The connection this channel is on. */
  Connection connection() {
    return channel.getConnection();
  }

  /**
   * Writes {@code publish} as a persistent mandatory message; its future completes on the confirm.
   *
   * @throws IOException if it could not be written (it is then not tracked: the caller decides)
   */
  void publish(Publish publish) throws IOException {
    writing.lock();
    try {
      long sequence = channel.getNextPublishSeqNo();
      unconfirmed.put(sequence, publish);
      try {
        RabbitDestination to = publish.destination;
        channel.basicPublish(
            to.exchange(), to.routingKey(), true, publish.properties, publish.body);
      } catch (IOException | RuntimeException ex) {
        if (unconfirmed.remove(sequence, publish)) {
          throw ex instanceof IOException io ? io : new IOException(ex.getMessage(), ex);
        }
        // the channel's close took it over and has completed it or will
      }
    } finally {
      writing.unlock();
    }
  }

  /**
   * Aborts the connection this channel is on, after its socket failed: every channel on it closes,
   * and their unconfirmed messages go to the close handler.
   */
  void abortConnection() {
    channel.getConnection().abort(ABORT_TIMEOUT_MILLIS);
  }

  /** Unconfirmed messages now (for tests and logs). */
  int unconfirmed() {
    return unconfirmed.size();
  }

  /** Closes the channel; its unconfirmed messages go to the close handler. */
  void close() {
    try {
      if (channel.isOpen()) {
        channel.close();
      }
    } catch (IOException | RuntimeException | java.util.concurrent.TimeoutException ignored) {
      // closing anyway: the shutdown listener has what is left
    }
  }

  private List<Publish> takeAll() {
    List<Publish> left = new ArrayList<>();
    Map.Entry<Long, Publish> entry;
    while ((entry = unconfirmed.pollFirstEntry()) != null) {
      left.add(entry.getValue());
    }
    return left;
  }

  private ConfirmListener confirms() {
    return new ConfirmListener() {
      @Override
      public void handleAck(long sequence, boolean multiple) {
        answered.run();
        if (multiple) {
          Map.Entry<Long, Publish> entry;
          while ((entry = unconfirmed.firstEntry()) != null && entry.getKey() <= sequence) {
            if (unconfirmed.remove(entry.getKey(), entry.getValue())) {
              entry.getValue().confirmed();
            }
          }
        } else {
          Publish publish = unconfirmed.remove(sequence);
          if (publish != null) {
            publish.confirmed();
          }
        }
      }

      @Override
      public void handleNack(long sequence, boolean multiple) {
        answered.run();
        if (multiple) {
          Map.Entry<Long, Publish> entry;
          while ((entry = unconfirmed.firstEntry()) != null && entry.getKey() <= sequence) {
            if (unconfirmed.remove(entry.getKey(), entry.getValue())) {
              nacked(entry.getValue());
            }
          }
        } else {
          Publish publish = unconfirmed.remove(sequence);
          if (publish != null) {
            nacked(publish);
          }
        }
      }
    };
  }

  private static void nacked(Publish publish) {
    publish.failed(
        RabbitPublishException.nacked(
            publish.destination, "the broker rejected it (basic.nack, e.g. a full queue)"));
  }

  private ReturnListener returns() {
    return (replyCode, replyText, exchange, routingKey, properties, body) -> {
      answered.run();
      String id = properties.getMessageId();
      for (Publish publish : unconfirmed.values()) {
        if (publish.returned == null
            && id != null
            && id.equals(publish.messageId())
            && publish.destination.exchange().equals(exchange)
            && publish.destination.routingKey().equals(routingKey)) {
          publish.returned =
              RabbitPublishException.returned(publish.destination, replyCode, replyText);
          return;
        }
      }
    };
  }

  /** Fails every message not confirmed yet with {@code failure}; the channel stays open. */
  void failUnconfirmed(Throwable failure) {
    for (Publish publish : takeAll()) {
      publish.failed(failure);
    }
  }
}
