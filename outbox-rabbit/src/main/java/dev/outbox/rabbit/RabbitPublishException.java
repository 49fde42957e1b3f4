package dev.outbox.rabbit;

import dev.outbox.OutboxException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/** A publish that RabbitMQ did not accept: returned, negatively confirmed, or not expressible. */
public final class RabbitPublishException extends OutboxException {

  /** What went wrong. */
  public enum Reason {
    /** The broker returned the mandatory message: no queue is bound for its routing key. */
    RETURNED,
    /**
     * The broker negatively confirmed the message, or the channel closed before it confirmed it
     * (connection lost, missing exchange, access refused, message too large).
     */
    NACKED,
    /** The destination cannot be expressed as an AMQP exchange and routing key. */
    INVALID_DESTINATION
  }

  private static final Pattern REPLY_CODE = Pattern.compile("reply-code=(\\d+)");

  /** AMQP 0-9-1 reply code 404: on publish, the exchange does not exist. */
  static final int NOT_FOUND = 404;

  /** AMQP 0-9-1 reply code 403: the user may not write to the exchange. */
  static final int ACCESS_REFUSED = 403;

  /** AMQP 0-9-1 reply code 406: on publish, the message is larger than the broker accepts. */
  static final int PRECONDITION_FAILED = 406;

  private final Reason reason;
  private final int replyCode;

  private RabbitPublishException(String message, Reason reason, int replyCode) {
    super(message);
    this.reason = reason;
    this.replyCode = replyCode;
  }

  static RabbitPublishException returned(
      RabbitDestination destination, int replyCode, String replyText) {
    return new RabbitPublishException(
        "Message returned as unroutable from "
            + destination
            + " (reply-code="
            + replyCode
            + ", "
            + replyText
            + "): no queue is bound for it",
        Reason.RETURNED,
        replyCode);
  }

  static RabbitPublishException nacked(RabbitDestination destination, @Nullable String cause) {
    String detail = cause == null || cause.isBlank() ? "no reason given" : cause;
    return new RabbitPublishException(
        "Message to " + destination + " was not confirmed by the broker: " + detail,
        Reason.NACKED,
        replyCodeIn(detail));
  }

  /**
   * The message's channel closed before its confirm arrived, for a reason that is not its own; the
   * broker's reply code is not kept, since it belongs to another message.
   */
  static RabbitPublishException unconfirmed(RabbitDestination destination, String cause) {
    return new RabbitPublishException(
        "Message to " + destination + " was not confirmed by the broker: " + cause,
        Reason.NACKED,
        0);
  }

  static RabbitPublishException invalidDestination(String destination, @Nullable String problem) {
    return new RabbitPublishException(
        "Destination '" + destination + "' is not a valid RabbitMQ destination: " + problem,
        Reason.INVALID_DESTINATION,
        0);
  }

  /** The first AMQP reply code mentioned in {@code text}, or 0. */
  static int replyCodeIn(@Nullable String text) {
    if (text == null) {
      return 0;
    }
    Matcher matcher = REPLY_CODE.matcher(text);
    return matcher.find() ? Integer.parseInt(matcher.group(1)) : 0;
  }

  public Reason reason() {
    return reason;
  }

  /** The AMQP reply code the broker gave, or 0 if none is known. */
  public int replyCode() {
    return replyCode;
  }

  /**
   * Whether this failure is retried by default: nacks are (the queue or the connection may
   * recover), except access refused and message too large; a return (unroutable) and an invalid
   * destination are not. A transport built with {@link RabbitOutboxOptions#retryUnroutable()}
   * retries returns.
   */
  public boolean isRetryable() {
    return switch (reason) {
      case RETURNED -> RabbitOutboxOptions.DEFAULT_RETRY_UNROUTABLE;
      case NACKED -> replyCode != ACCESS_REFUSED && replyCode != PRECONDITION_FAILED;
      case INVALID_DESTINATION -> false;
    };
  }
}
