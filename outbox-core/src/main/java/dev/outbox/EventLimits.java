package dev.outbox;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * What an event must look like to be written. The writer checks every event against these limits
 * before anything is written, so bad input fails the business transaction's call with an {@link
 * OutboxException} naming the input and the limit, and never reaches a row the relay or a broker
 * cannot handle. The table's CHECK constraints (migration V3) hold other writers to the same limits
 * where SQL can express them.
 */
public final class EventLimits {

  /**
   * The longest key, in UTF-8 bytes. Well below PostgreSQL's limit on an index entry (about 2,700
   * bytes), since the key is indexed with dead events; also the table's CHECK constraint.
   */
  public static final int MAX_KEY_BYTES = 1024;

  /**
   * The longest name, in UTF-8 bytes: an exchange, a routing key, an event type, an aggregate type,
   * a header name. AMQP 0-9-1 carries names of up to 255 bytes; Kafka topics are shorter.
   */
  public static final int MAX_NAME_BYTES = 255;

  /**
   * The longest destination, in UTF-8 bytes: an exchange and a routing key ({@code
   * exchange:routing-key}) of {@link #MAX_NAME_BYTES} each.
   */
  public static final int MAX_DESTINATION_BYTES = 2 * MAX_NAME_BYTES + 1;

  /**
   * Header name prefixes the transports use for the attributes they set themselves (CloudEvents on
   * Kafka and AMQP, the dead-letter headers), compared ignoring case. An event header with such a
   * name would be dropped or would shadow the real attribute, e.g. the event id.
   */
  public static final List<String> RESERVED_HEADER_PREFIXES =
      List.of("ce_", "ce-", "cloudevents_", "cloudevents:", "cloudevents-", "x-outbox-");

  private static final int SHOWN_CHARS = 64;

  private EventLimits() {}

  /**
   * Checks a destination: a Kafka topic or a RabbitMQ {@code exchange[:routing-key]}. Permissive
   * enough for both, it rejects what neither accepts: blank, control characters, a name (or each
   * side of the colon) longer than {@link #MAX_NAME_BYTES}.
   */
  static void checkDestination(@Nullable String destination) {
    if (destination == null) {
      throw new OutboxException("Invalid destination: null; name a topic or an exchange");
    }
    if (destination.isBlank()) {
      throw new OutboxException(
          "Invalid destination '" + destination + "': blank; name a topic or an exchange");
    }
    checkNoControl("destination", destination, "");
    int colon = destination.indexOf(':');
    if (colon < 0) {
      checkLength("destination", destination, MAX_NAME_BYTES, "");
      return;
    }
    String exchange = destination.substring(0, colon);
    String routingKey = destination.substring(colon + 1);
    if (exchange.isEmpty() && routingKey.isEmpty()) {
      throw new OutboxException(
          "Invalid destination ':': names neither an exchange nor a queue (exchange[:routing-key])");
    }
    checkLength("destination", destination, MAX_DESTINATION_BYTES, "");
    if (utf8Length(exchange) > MAX_NAME_BYTES || utf8Length(routingKey) > MAX_NAME_BYTES) {
      throw new OutboxException(
          "Invalid destination '"
              + shown(destination)
              + "': the exchange and the routing key may each be at most "
              + MAX_NAME_BYTES
              + " UTF-8 bytes (were "
              + utf8Length(exchange)
              + " and "
              + utf8Length(routingKey)
              + ")");
    }
  }

  /** Checks a key (null for unordered events): at most {@link #MAX_KEY_BYTES}, no U+0000. */
  static void checkKey(@Nullable String key, String destination) {
    if (key == null) {
      return;
    }
    String context = " (destination '" + shown(destination) + "')";
    checkLength("key", key, MAX_KEY_BYTES, context);
    int nul = key.indexOf('\0');
    if (nul >= 0) {
      throw new OutboxException(
          "Invalid key '"
              + shown(key)
              + "'"
              + context
              + ": contains U+0000 at index "
              + nul
              + ", which PostgreSQL text cannot store");
    }
  }

  /** Checks a name such as an aggregate type: not blank, no control characters, not too long. */
  static void checkName(String what, @Nullable String name, String context) {
    if (name == null) {
      return;
    }
    if (name.isBlank()) {
      throw new OutboxException("Invalid " + what + " '" + name + "'" + context + ": blank");
    }
    checkNoControl(what, name, context);
    checkLength(what, name, MAX_NAME_BYTES, context);
  }

  /** Checks the headers of an event: names ({@link #checkHeaderName}) and values (no U+0000). */
  static void checkHeaders(Map<String, String> headers, String context) {
    for (Map.Entry<String, String> header : headers.entrySet()) {
      checkHeaderName(header.getKey(), context);
      String value = header.getValue();
      if (value == null) {
        throw new OutboxException(
            "Invalid header '" + header.getKey() + "'" + context + ": the value is null");
      }
      int nul = value.indexOf('\0');
      if (nul >= 0) {
        throw new OutboxException(
            "Invalid header '"
                + header.getKey()
                + "'"
                + context
                + ": the value contains U+0000 at index "
                + nul
                + ", which PostgreSQL cannot store");
      }
    }
  }

  /**
   * Checks a header name: 1 to {@link #MAX_NAME_BYTES} UTF-8 bytes, no whitespace or control
   * characters, and none of the {@link #RESERVED_HEADER_PREFIXES}.
   */
  static void checkHeaderName(@Nullable String name, String context) {
    if (name == null || name.isEmpty()) {
      throw new OutboxException("Invalid header name" + context + ": empty");
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (Character.isWhitespace(c) || Character.isISOControl(c)) {
        throw new OutboxException(
            "Invalid header name '"
                + shown(name)
                + "'"
                + context
                + ": contains "
                + describe(c)
                + " at index "
                + i
                + "; header names have no whitespace or control characters");
      }
    }
    checkLength("header name", name, MAX_NAME_BYTES, context);
    String lower = name.toLowerCase(Locale.ROOT);
    for (String prefix : RESERVED_HEADER_PREFIXES) {
      if (lower.startsWith(prefix)) {
        throw new OutboxException(
            "Invalid header name '"
                + shown(name)
                + "'"
                + context
                + ": the prefix '"
                + prefix
                + "' is reserved for the attributes the outbox sets itself (CloudEvents id,"
                + " type, source, ...)");
      }
    }
  }

  /**
   * Checks a serialized payload against the writer's maximum, in UTF-8 bytes. The message names the
   * limit as {@code limit} describes it: whoever configured the writer knows where it came from (a
   * property, the transport), the writer does not.
   */
  static void checkPayload(
      String payload, int maxBytes, String limit, String type, String destination) {
    // A Java char encodes to at most 3 UTF-8 bytes: short payloads need no counting.
    if ((long) payload.length() * 3 <= maxBytes) {
      return;
    }
    int bytes = utf8Length(payload);
    if (bytes > maxBytes) {
      throw new OutboxException(
          "Payload of event type "
              + type
              + " to '"
              + shown(destination)
              + "' is "
              + bytes
              + " UTF-8 bytes, more than the limit of "
              + maxBytes
              + " bytes ("
              + limit
              + ")");
    }
  }

  private static void checkNoControl(String what, String value, String context) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (Character.isISOControl(c)) {
        throw new OutboxException(
            "Invalid "
                + what
                + " '"
                + shown(value)
                + "'"
                + context
                + ": contains the control character "
                + describe(c)
                + " at index "
                + i);
      }
    }
  }

  private static void checkLength(String what, String value, int maxBytes, String context) {
    if ((long) value.length() * 3 <= maxBytes) {
      return;
    }
    int bytes = utf8Length(value);
    if (bytes > maxBytes) {
      throw new OutboxException(
          "Invalid "
              + what
              + " '"
              + shown(value)
              + "'"
              + context
              + ": "
              + bytes
              + " UTF-8 bytes, more than the limit of "
              + maxBytes
              + " bytes");
    }
  }

  static int utf8Length(String value) {
    int bytes = 0;
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < 0x80) {
        bytes++;
      } else if (c < 0x800) {
        bytes += 2;
      } else if (Character.isHighSurrogate(c)
          && i + 1 < value.length()
          && Character.isLowSurrogate(value.charAt(i + 1))) {
        bytes += 4;
        i++;
      } else {
        bytes += 3;
      }
    }
    return bytes;
  }

  /** The value as shown in an error: its first characters, with control characters escaped. */
  static String shown(String value) {
    String head = value.length() > SHOWN_CHARS ? value.substring(0, SHOWN_CHARS) : value;
    StringBuilder out = new StringBuilder(head.length() + 8);
    for (int i = 0; i < head.length(); i++) {
      char c = head.charAt(i);
      if (Character.isISOControl(c)) {
        out.append(String.format("\\u%04X", (int) c));
      } else {
        out.append(c);
      }
    }
    if (head.length() < value.length()) {
      out.append("...");
    }
    return out.toString();
  }

  private static String describe(char c) {
    return String.format("U+%04X", (int) c);
  }
}
