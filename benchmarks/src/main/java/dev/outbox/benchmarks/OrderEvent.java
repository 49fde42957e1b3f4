package dev.outbox.benchmarks;

import dev.outbox.EventType;
import java.nio.charset.StandardCharsets;

/**
 * The benchmark payload: about 1 KB of JSON. {@code n} numbers the events of a run from 0, so a
 * timestamp array indexed by it needs no map, and per-key order can be checked on the consumer side
 * ({@code n} grows with write order within a key).
 */
@EventType(name = "OrderPlaced", version = 1)
public record OrderEvent(
    long n, String orderId, String customerId, long amountCents, String currency, String note) {

  /** Pads the JSON to about 1 KB; the SQL seeding in {@link Db} uses the same text. */
  static final String NOTE = "lorem ipsum ".repeat(75);

  static final String TOPIC_TYPE = "OrderPlaced";

  static OrderEvent of(long n, int keys) {
    String key = key(n, keys);
    return new OrderEvent(n, key, "customer-" + (n % 997), 1000 + n % 9000, "EUR", NOTE);
  }

  static String key(long n, int keys) {
    return "order-" + (n % keys);
  }

  /** Reads {@code n} from the start of a payload written by Jackson ({@code {"n":123,...}}). */
  static long parseN(String json) {
    return parseN(json.getBytes(StandardCharsets.ISO_8859_1));
  }

  static long parseN(byte[] json) {
    int i = 0;
    while (i < json.length && json[i] != ':') {
      i++;
    }
    long n = 0;
    boolean digits = false;
    for (i++; i < json.length; i++) {
      byte b = json[i];
      if (b >= '0' && b <= '9') {
        n = n * 10 + (b - '0');
        digits = true;
      } else if (digits || b != ' ') {
        break;
      }
    }
    return digits ? n : -1;
  }
}
