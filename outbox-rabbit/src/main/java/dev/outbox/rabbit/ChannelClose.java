package dev.outbox.rabbit;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.ShutdownSignalException;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Why a publishing channel closed, and which of its unconfirmed messages caused it.
 *
 * <p>A channel error on {@code basic.publish} is caused by one message, but it closes the channel
 * and loses the confirms of every other message on it. The broker's reply text names what was
 * wrong, and that picks out the messages that would fail the same way:
 *
 * <ul>
 *   <li>404 {@code NOT_FOUND - no exchange 'x'} and 403 {@code ACCESS_REFUSED - access to exchange
 *       'x'} (or to an internal exchange): the messages to exchange {@code x};
 *   <li>403 {@code write access to topic 'k' in exchange 'x'}: the messages to {@code x} with
 *       routing key {@code k};
 *   <li>406 {@code message size n is larger than configured max size m}: the messages whose body is
 *       larger than {@code m} bytes.
 * </ul>
 *
 * Any other close of a channel by the broker cannot be pinned on a message: then all its
 * unconfirmed messages fail with it (and each is charged an attempt, which bounds the damage of a
 * message that keeps closing channels). A closed connection is no message's fault.
 */
final class ChannelClose {

  private static final Pattern TOPIC =
      Pattern.compile("write access to topic '([^']*)' in exchange '([^']*)'");
  private static final Pattern EXCHANGE = Pattern.compile("exchange '([^']*)'");
  private static final Pattern TOO_LARGE =
      Pattern.compile("message size \\d+ is larger than configured max size (\\d+)");

  /** AMQP 0-9-1 {@code basic.publish}: class 60, method 40. */
  private static final int BASIC_CLASS = 60;

  private static final int PUBLISH_METHOD = 40;

  private final ShutdownSignalException cause;
  private final @Nullable Predicate<Publish> culprit;

  private ChannelClose(ShutdownSignalException cause, @Nullable Predicate<Publish> culprit) {
    this.cause = cause;
    this.culprit = culprit;
  }

  static ChannelClose of(ShutdownSignalException cause) {
    if (cause.isHardError()
        || cause.isInitiatedByApplication()
        || !(cause.getReason() instanceof AMQP.Channel.Close close)
        || close.getClassId() != BASIC_CLASS
        || close.getMethodId() != PUBLISH_METHOD) {
      return new ChannelClose(cause, null);
    }
    return new ChannelClose(cause, culprit(close.getReplyCode(), close.getReplyText()));
  }

  static @Nullable Predicate<Publish> culprit(int replyCode, @Nullable String text) {
    if (text == null) {
      return null;
    }
    if (replyCode == RabbitPublishException.NOT_FOUND
        || replyCode == RabbitPublishException.ACCESS_REFUSED) {
      Matcher topic = TOPIC.matcher(text);
      if (topic.find()) {
        String routingKey = topic.group(1);
        String exchange = topic.group(2);
        return publish ->
            publish.destination.exchange().equals(exchange)
                && publish.destination.routingKey().equals(routingKey);
      }
      Matcher exchange = EXCHANGE.matcher(text);
      if (exchange.find()) {
        String name = exchange.group(1);
        return publish -> publish.destination.exchange().equals(name);
      }
    }
    if (replyCode == RabbitPublishException.PRECONDITION_FAILED) {
      Matcher tooLarge = TOO_LARGE.matcher(text);
      if (tooLarge.find()) {
        long max = Long.parseLong(tooLarge.group(1));
        return publish -> publish.body.length > max;
      }
    }
    return null;
  }

  /** Whether the broker closed the channel for a publish, naming what was wrong with it. */
  boolean attributed() {
    return culprit != null;
  }

  /**
   * Whether {@code publish} caused the close (or would have, the same way); every message does when
   * the close cannot be pinned on one.
   */
  boolean causedBy(Publish publish) {
    return culprit == null || culprit.test(publish);
  }

  /** Whether the connection, not only the channel, is gone: no message caused that. */
  boolean connectionLost() {
    return cause.isHardError() || !(cause.getReason() instanceof AMQP.Channel.Close);
  }

  ShutdownSignalException cause() {
    return cause;
  }

  /** The broker's words, e.g. {@code reply-code=404, reply-text=NOT_FOUND - no exchange 'x'}. */
  String describe() {
    return cause.getMessage();
  }
}
