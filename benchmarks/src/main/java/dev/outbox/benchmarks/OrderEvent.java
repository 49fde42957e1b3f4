package dev.outbox.benchmarks;

import dev.outbox.EventType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The benchmark payload: an order of about 1 KB of JSON whose values vary with the event number
 * (customer, currency, address, eight order lines with their own SKUs, quantities, prices and
 * descriptions), so that neither PostgreSQL's TOAST compression nor the broker's batches see
 * repeated bytes. {@code n} numbers the events of a run from 0 and is the first field, so a
 * timestamp array indexed by it needs no map, and per-key order can be checked on the consumer side
 * ({@code n} grows with write order within a key).
 *
 * <p>{@link #sqlJson} produces the same JSON text in SQL for the server-side seeding of backlogs;
 * the suite checks at start that both agree ({@link #checkSqlMatches}).
 */
@EventType(name = "OrderPlaced", version = 1)
public record OrderEvent(
    long n,
    String orderId,
    String customerId,
    long amountCents,
    String currency,
    Address shipTo,
    List<Line> lines) {

  /** A shipping address. */
  public record Address(String street, String city, String zip, String country) {}

  /** An order line. */
  public record Line(String sku, long quantity, long unitPriceCents, String description) {}

  static final String TOPIC_TYPE = "OrderPlaced";

  static final int LINES = 8;

  private static final String[] CURRENCIES = {"EUR", "USD", "GBP", "CHF"};
  private static final String[] STREETS = {
    "Main Street", "Station Road", "Church Lane", "Market Square", "Harbour View", "Mill Road",
    "Park Avenue", "Kings Way", "Orchard Close", "Bridge Street", "Lindenallee", "Rue du Port"
  };
  private static final String[] CITIES = {
    "Amsterdam",
    "Berlin",
    "Copenhagen",
    "Dublin",
    "Edinburgh",
    "Florence",
    "Geneva",
    "Hamburg",
    "Lisbon",
    "Madrid",
    "Oslo",
    "Vienna",
    "Warsaw"
  };
  private static final String[] COUNTRIES = {"NL", "DE", "DK", "IE", "GB", "IT", "CH", "PT", "ES"};
  private static final String[] ADJECTIVES = {
    "compact",
    "heavy-duty",
    "wireless",
    "organic",
    "refurbished",
    "stainless",
    "foldable",
    "waterproof",
    "ergonomic",
    "vintage",
    "rechargeable"
  };
  private static final String[] MATERIALS = {
    "steel", "bamboo", "cotton", "aluminium", "ceramic", "leather", "glass", "oak", "silicone"
  };
  private static final String[] ITEMS = {
    "widget", "kettle", "backpack", "desk lamp", "headphones", "water bottle", "notebook",
    "chair", "charger", "blender", "umbrella", "toolbox", "teapot", "keyboard"
  };

  static OrderEvent of(long n, int keys) {
    List<Line> lines = new ArrayList<>(LINES);
    for (int i = 0; i < LINES; i++) {
      lines.add(
          new Line(
              "SKU-" + zeroPadded((n * 7 + i * 104_729) % 1_000_000, 6),
              1 + (n + i) % 5,
              99 + (n * (i + 3) * 131) % 50_000,
              pick(ADJECTIVES, n + i * 3)
                  + " "
                  + pick(MATERIALS, n / 3 + i)
                  + " "
                  + pick(ITEMS, n * 5 + i * 7)));
    }
    return new OrderEvent(
        n,
        key(n, keys),
        "customer-" + (n * 7919) % 100_003,
        1000 + (n * 31) % 99_000,
        pick(CURRENCIES, n),
        new Address(
            (n * 13) % 9999 + 1 + " " + pick(STREETS, n / 7),
            pick(CITIES, n / 11),
            zeroPadded((n * 37) % 99_999, 5),
            pick(COUNTRIES, n / 13)),
        lines);
  }

  /**
   * As {@code String.format("%0<width>d", value)} for a non-negative value, without the formatter.
   */
  private static String zeroPadded(long value, int width) {
    String digits = Long.toString(value);
    return digits.length() >= width ? digits : "0".repeat(width - digits.length()) + digits;
  }

  private static String pick(String[] values, long i) {
    return values[(int) (i % values.length)];
  }

  static String key(long n, int keys) {
    return "order-" + (n % keys);
  }

  /**
   * The JSON of {@link #of} as a SQL expression of the bigint expression {@code n} and the integer
   * expression {@code keys}, field for field as Jackson writes the record.
   */
  static String sqlJson(String n, String keys) {
    StringBuilder sql = new StringBuilder();
    sql.append("'{\"n\":' || ").append(n);
    sql.append(" || ',\"orderId\":\"order-' || (").append(n).append(" % ").append(keys).append(')');
    sql.append(" || '\",\"customerId\":\"customer-' || ((").append(n).append(" * 7919) % 100003)");
    sql.append(" || '\",\"amountCents\":' || (1000 + (").append(n).append(" * 31) % 99000)");
    sql.append(" || ',\"currency\":\"' || ").append(pickSql(CURRENCIES, n));
    sql.append(" || '\",\"shipTo\":{\"street\":\"' || ((")
        .append(n)
        .append(" * 13) % 9999 + 1) || ' ' || ")
        .append(pickSql(STREETS, n + " / 7"));
    sql.append(" || '\",\"city\":\"' || ").append(pickSql(CITIES, n + " / 11"));
    sql.append(" || '\",\"zip\":\"' || lpad(((").append(n).append(" * 37) % 99999)::text, 5, '0')");
    sql.append(" || '\",\"country\":\"' || ").append(pickSql(COUNTRIES, n + " / 13"));
    sql.append(" || '\"},\"lines\":[");
    for (int i = 0; i < LINES; i++) {
      sql.append(i == 0 ? "" : ",")
          .append("{\"sku\":\"SKU-' || lpad(((")
          .append(n)
          .append(" * 7 + ")
          .append(i * 104_729L)
          .append(") % 1000000)::text, 6, '0')");
      sql.append(" || '\",\"quantity\":' || (1 + (").append(n).append(" + ").append(i);
      sql.append(") % 5) || ',\"unitPriceCents\":' || (99 + (")
          .append(n)
          .append(" * ")
          .append((i + 3) * 131)
          .append(") % 50000)");
      sql.append(" || ',\"description\":\"' || ")
          .append(pickSql(ADJECTIVES, n + " + " + (i * 3)))
          .append(" || ' ' || ")
          .append(pickSql(MATERIALS, n + " / 3 + " + i))
          .append(" || ' ' || ")
          .append(pickSql(ITEMS, n + " * 5 + " + (i * 7)))
          .append(" || '\"}");
    }
    sql.append("]}'");
    return sql.toString();
  }

  private static String pickSql(String[] values, String index) {
    StringBuilder sql = new StringBuilder("(ARRAY[");
    for (int i = 0; i < values.length; i++) {
      sql.append(i == 0 ? "'" : ",'").append(values[i]).append('\'');
    }
    return sql.append("])[((")
        .append(index)
        .append(") % ")
        .append(values.length)
        .append(") + 1]")
        .toString();
  }

  /** Fails when the SQL seeding would not produce exactly the JSON the writer produces. */
  static int checkSqlMatches(javax.sql.DataSource dataSource) {
    tools.jackson.databind.json.JsonMapper mapper =
        tools.jackson.databind.json.JsonMapper.builder().build();
    int size = 0;
    for (long n : new long[] {0, 1, 7, 12_345, 99_999, 999_999, 3_999_999}) {
      String java = mapper.writeValueAsString(of(n, 10_000));
      String sql =
          Db.queryString(dataSource, "SELECT " + sqlJson(n + "::bigint", "10000") + " AS j");
      if (!java.equals(sql)) {
        throw new IllegalStateException(
            "The SQL seeding's payload differs from the writer's for n="
                + n
                + ":\n java: "
                + java
                + "\n sql:  "
                + sql);
      }
      size = Math.max(size, java.getBytes(StandardCharsets.UTF_8).length);
    }
    return size;
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
