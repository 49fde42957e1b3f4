package dev.outbox.transport;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * The CloudEvents {@code source} attribute, which the specification defines as a URI reference (RFC
 * 3986). Consumers parse it: the CloudEvents Java SDK reads it with {@link URI#URI(String)} and
 * fails the whole record when that throws, so a source such as {@code Order Service} makes every
 * message unreadable to it.
 */
public final class CloudEventSource {

  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private CloudEventSource() {}

  /**
   * Checks that {@code source} is a URI reference: printable US-ASCII (RFC 3986 has no other
   * characters) that {@link URI} parses.
   *
   * @return {@code source}
   * @throws IllegalArgumentException naming the first problem
   */
  public static String check(String source) {
    if (source.isBlank()) {
      throw new IllegalArgumentException("source must not be blank");
    }
    for (int i = 0; i < source.length(); i++) {
      char c = source.charAt(i);
      if (c <= ' ' || c >= 0x7f) {
        throw new IllegalArgumentException(
            "source must be a URI reference (the CloudEvents 'source', which consumers parse as"
                + " one), e.g. 'order-service' or '/shop/orders'; '"
                + source
                + "' has "
                + (c == ' ' ? "a space" : String.format("U+%04X", (int) c))
                + " at index "
                + i
                + ", which must be percent-encoded");
      }
    }
    try {
      new URI(source);
    } catch (URISyntaxException ex) {
      throw new IllegalArgumentException(
          "source must be a URI reference (the CloudEvents 'source', which consumers parse as one),"
              + " e.g. 'order-service' or '/shop/orders'; '"
              + source
              + "' is not: "
              + ex.getMessage(),
          ex);
    }
    return source;
  }

  /**
   * The source a transport sends: {@code configured} checked, or when it is not set, {@code
   * applicationName} made into one ({@link #fromName}), or {@code fallback} when neither is set.
   *
   * @param property the property {@code configured} was read from, named in the error
   * @throws IllegalArgumentException if {@code configured} is not a URI reference, naming {@code
   *     property}
   */
  public static String resolve(
      @Nullable String configured,
      String property,
      @Nullable String applicationName,
      String fallback) {
    if (configured == null || configured.isBlank()) {
      // The application's name need not be a URI reference ("Order Service"): encoded, it is.
      return applicationName == null || applicationName.isBlank()
          ? fallback
          : fromName(applicationName);
    }
    try {
      return check(configured);
    } catch (IllegalArgumentException ex) {
      throw new IllegalArgumentException("Invalid " + property + ": " + ex.getMessage(), ex);
    }
  }

  /**
   * A source made from a name that may not be a URI reference, such as an application name: the
   * name itself if it is one, else the name with every character other than RFC 3986's unreserved
   * characters, sub-delimiters, {@code @} and {@code /} percent-encoded as UTF-8 ({@code Order
   * Service} becomes {@code Order%20Service}).
   */
  public static String fromName(String name) {
    try {
      return check(name);
    } catch (IllegalArgumentException notAUri) {
      StringBuilder encoded = new StringBuilder(name.length() + 16);
      for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
        int c = b & 0xff;
        if (kept(c)) {
          encoded.append((char) c);
        } else {
          encoded.append('%').append(HEX[c >> 4]).append(HEX[c & 0xf]);
        }
      }
      return check(encoded.toString());
    }
  }

  private static boolean kept(int c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || "-._~!$&'()*+,;=@/".indexOf(c) >= 0;
  }
}
