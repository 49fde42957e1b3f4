package dev.outbox.benchmarks.producer;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Realistic outbox records: an order event of about 1 KB of JSON with nested, varied fields, keyed
 * by one of 10,000 order ids, with the CloudEvents headers the Kafka transport adds. Generated up
 * front from a fixed seed, so generation costs no time or CPU during a measurement.
 */
final class OrderPayloads {

  static final int KEYS = 10_000;

  private static final String[] FIRST = {
    "Anna", "Ben", "Chiara", "Dmitri", "Elif", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Keiko",
    "Lars", "Maya", "Noah", "Olga", "Pavel", "Quinn", "Rosa", "Sven", "Tariq"
  };
  private static final String[] LAST = {
    "Müller",
    "Rossi",
    "Novak",
    "Garcia",
    "Schmidt",
    "Dubois",
    "Kowalski",
    "Jensen",
    "Silva",
    "Yilmaz",
    "Berg",
    "Moreau",
    "Horvat",
    "Costa",
    "Fischer"
  };
  private static final String[] CITIES = {
    "Berlin", "Lyon", "Milano", "Porto", "Gdańsk", "Utrecht", "Graz", "Aarhus", "Brno", "Sevilla"
  };
  private static final String[] STREETS = {
    "Hauptstraße", "Rue de la Paix", "Via Roma", "Rua Augusta", "Długa", "Oudegracht", "Herrengasse"
  };
  private static final String[] PRODUCTS = {
    "Espresso grinder",
    "Merino scarf",
    "Trail shoes",
    "USB-C dock",
    "Cast iron pan",
    "Desk lamp",
    "Noise cancelling headphones",
    "Yoga mat",
    "Water bottle 0.75 l",
    "Mechanical keyboard",
    "Rain jacket",
    "Chef knife 21 cm",
    "Backpack 28 l",
    "Tea sampler",
    "Bike light set"
  };
  private static final String[] CURRENCIES = {"EUR", "EUR", "EUR", "CHF", "PLN", "SEK", "CZK"};
  private static final String[] SHIPPING = {"standard", "express", "pickup", "next-day"};
  private static final String[] CHANNELS = {"web", "ios", "android", "pos"};

  private final List<ProducerRecord<String, String>> records;

  private OrderPayloads(List<ProducerRecord<String, String>> records) {
    this.records = records;
  }

  static OrderPayloads generate(String topic, int count, long seed) {
    Random random = new Random(seed);
    List<ProducerRecord<String, String>> records = new ArrayList<>(count);
    Instant base = Instant.parse("2026-11-26T08:00:00Z");
    for (int i = 0; i < count; i++) {
      String key = "order-" + random.nextInt(KEYS);
      Instant time = base.plusMillis(i * 7L + random.nextInt(5));
      String json = orderJson(random, key, time);
      RecordHeaders headers = new RecordHeaders();
      header(headers, "ce_id", new UUID(random.nextLong(), random.nextLong()).toString());
      header(headers, "ce_type", "OrderPlaced");
      header(headers, "ce_source", "order-service");
      header(headers, "ce_specversion", "1.0");
      header(headers, "ce_time", time.toString());
      header(headers, "ce_subject", key);
      header(headers, "ce_eventversion", "1");
      header(headers, "ce_aggregatetype", "Order");
      header(headers, "content-type", "application/json");
      header(
          headers,
          "traceparent",
          "00-%016x%016x-%016x-01"
              .formatted(random.nextLong(), random.nextLong(), random.nextLong()));
      records.add(new ProducerRecord<>(topic, null, key, json, headers));
    }
    return new OrderPayloads(records);
  }

  ProducerRecord<String, String> get(long i) {
    return records.get((int) (i % records.size()));
  }

  ProducerRecord<String, String> forTopic(long i, String topic) {
    ProducerRecord<String, String> r = get(i);
    return new ProducerRecord<>(topic, null, r.key(), r.value(), r.headers());
  }

  double averageValueBytes() {
    return records.stream()
        .mapToInt(r -> r.value().getBytes(StandardCharsets.UTF_8).length)
        .average()
        .orElse(0);
  }

  private static void header(RecordHeaders headers, String name, String value) {
    headers.add(name, value.getBytes(StandardCharsets.UTF_8));
  }

  private static String orderJson(Random r, String key, Instant time) {
    String currency = CURRENCIES[r.nextInt(CURRENCIES.length)];
    StringBuilder items = new StringBuilder();
    int lines = 3 + r.nextInt(3);
    long total = 0;
    for (int i = 0; i < lines; i++) {
      int qty = 1 + r.nextInt(4);
      long price = 199 + r.nextInt(25_000);
      total += qty * price;
      if (i > 0) {
        items.append(',');
      }
      items
          .append("{\"sku\":\"SKU-")
          .append(100_000 + r.nextInt(900_000))
          .append("\",\"name\":\"")
          .append(PRODUCTS[r.nextInt(PRODUCTS.length)])
          .append("\",\"quantity\":")
          .append(qty)
          .append(",\"unitPrice\":{\"amountCents\":")
          .append(price)
          .append(",\"currency\":\"")
          .append(currency)
          .append("\"},\"discountCents\":")
          .append(r.nextInt(4) == 0 ? r.nextInt(500) : 0)
          .append('}');
    }
    String first = FIRST[r.nextInt(FIRST.length)];
    String last = LAST[r.nextInt(LAST.length)];
    String city = CITIES[r.nextInt(CITIES.length)];
    return "{\"orderId\":\""
        + key
        + "\",\"orderNumber\":\"ON-"
        + (10_000_000 + r.nextInt(90_000_000))
        + "\",\"placedAt\":\""
        + time
        + "\",\"status\":\"PLACED\",\"channel\":\""
        + CHANNELS[r.nextInt(CHANNELS.length)]
        + "\",\"customer\":{\"customerId\":\"cust-"
        + r.nextInt(1_000_000)
        + "\",\"name\":\""
        + first
        + " "
        + last
        + "\",\"email\":\""
        + first.toLowerCase()
        + "."
        + r.nextInt(10_000)
        + "@example.org\",\"loyaltyTier\":\""
        + (r.nextBoolean() ? "silver" : r.nextBoolean() ? "gold" : "none")
        + "\"},\"shippingAddress\":{\"street\":\""
        + STREETS[r.nextInt(STREETS.length)]
        + " "
        + (1 + r.nextInt(200))
        + "\",\"postalCode\":\""
        + (10_000 + r.nextInt(89_999))
        + "\",\"city\":\""
        + city
        + "\",\"country\":\""
        + city.substring(0, 2).toUpperCase()
        + "\"},\"items\":["
        + items
        + "],\"totals\":{\"subtotalCents\":"
        + total
        + ",\"shippingCents\":"
        + (r.nextInt(3) * 495)
        + ",\"taxCents\":"
        + total * 19 / 119
        + ",\"currency\":\""
        + currency
        + "\"},\"shipping\":{\"method\":\""
        + SHIPPING[r.nextInt(SHIPPING.length)]
        + "\",\"promisedBy\":\""
        + time.plusSeconds(86_400L * (1 + r.nextInt(5)))
        + "\"},\"payment\":{\"method\":\""
        + (r.nextBoolean() ? "card" : "invoice")
        + "\",\"authorizationId\":\"auth_"
        + Long.toHexString(r.nextLong())
        + "\"}}";
  }
}
