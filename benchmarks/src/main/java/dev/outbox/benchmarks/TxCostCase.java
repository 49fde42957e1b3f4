package dev.outbox.benchmarks;

import java.security.SecureRandom;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.HdrHistogram.Histogram;
import tools.jackson.databind.json.JsonMapper;

/**
 * B1: what writing one event adds to a business transaction, at one client. Three variants of the
 * same Spring transaction (UPDATE of an account row, then COMMIT, through the application's {@code
 * TransactionTemplate}) run interleaved on one thread so that they see the same conditions: without
 * an event, with one event through the starter's {@code Outbox}, and with a hand-written INSERT of
 * the same row into an equivalent table. The application's relay runs as it would in production.
 */
final class TxCostCase {

  private static final String HAND_INSERT =
      "INSERT INTO hand_event (id, destination, event_key, aggregate_type, event_type,"
          + " event_version, payload, headers, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?::jsonb,"
          + " ?)";

  private static final SecureRandom RANDOM = new SecureRandom();

  private TxCostCase() {}

  static Map<String, Object> run(Settings settings, double seconds, double warmupSeconds) {
    try (OutboxApp.Running app =
        OutboxApp.run(OutboxApp.properties(settings, "kafka", 0, Map.of()))) {
      HandWriter handWriter = new HandWriter(app);
      Histogram[] histograms = {Pct.micros(), Pct.micros(), Pct.micros()};
      long warmupEnd = System.nanoTime() + (long) (warmupSeconds * 1e9);
      long end = warmupEnd + (long) (seconds * 1e9);
      long n = 0;
      Child.emit("WINDOW-START");
      while (true) {
        long now = System.nanoTime();
        if (now >= end) {
          break;
        }
        int variant = (int) (n % 3);
        long number = n;
        long started = System.nanoTime();
        app.tx.executeWithoutResult(
            status -> {
              app.jdbc.update(Db.UPDATE_ACCOUNT, number % Db.ACCOUNTS);
              OrderEvent event = OrderEvent.of(number, 10_000);
              if (variant == 1) {
                app.outbox.publish("orders", event.orderId(), event);
              } else if (variant == 2) {
                handWriter.insert(event);
              }
            });
        long micros = (System.nanoTime() - started) / 1000;
        if (started >= warmupEnd) {
          histograms[variant].recordValue(micros);
        }
        n++;
      }
      Child.emit("WINDOW-END");
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("without", Pct.summary(histograms[0]));
      out.put("outbox", Pct.summary(histograms[1]));
      out.put("hand", Pct.summary(histograms[2]));
      double base = histograms[0].getValueAtPercentile(50) / 1000.0;
      double outbox = histograms[1].getValueAtPercentile(50) / 1000.0;
      double hand = histograms[2].getValueAtPercentile(50) / 1000.0;
      out.put("addedMs", round(outbox - base));
      out.put("handAddedMs", round(hand - base));
      out.put("txRatio", round(outbox / hand));
      out.put("addedRatio", round((outbox - base) / (hand - base)));
      return out;
    }
  }

  /**
   * Writes events the way an application without the library would: a hand-written INSERT of the
   * same row into {@code hand_event}, the payload serialized with a Jackson mapper of its own.
   */
  static final class HandWriter {

    private final OutboxApp.Running app;
    private final JsonMapper mapper = JsonMapper.builder().build();

    HandWriter(OutboxApp.Running app) {
      this.app = app;
    }

    /**
     * One business transaction like {@link OutboxApp.Running#businessTransaction} with {@code
     * count} hand-written events; returns the instant the commit completed.
     */
    long transaction(long first, int count, int keys) {
      app.tx.executeWithoutResult(
          status -> {
            app.jdbc.update(Db.UPDATE_ACCOUNT, first % Db.ACCOUNTS);
            for (long n = first; n < first + count; n++) {
              insert(OrderEvent.of(n, keys));
            }
          });
      return System.nanoTime();
    }

    /** The INSERT of one event, in the caller's transaction. */
    void insert(OrderEvent event) {
      app.jdbc.update(
          HAND_INSERT,
          uuidV7(),
          "orders",
          event.orderId(),
          null,
          OrderEvent.TOPIC_TYPE,
          1,
          mapper.writeValueAsString(event),
          "{}",
          Timestamp.from(Instant.now()));
    }
  }

  /** A time-ordered UUID (version 7), as an application writing its own events would use. */
  static UUID uuidV7() {
    long millis = System.currentTimeMillis();
    long high = (millis << 16) | 0x7000L | (RANDOM.nextInt() & 0x0fffL);
    long low = (RANDOM.nextLong() & 0x3fffffffffffffffL) | 0x8000000000000000L;
    return new UUID(high, low);
  }

  static double round(double value) {
    return Math.round(value * 1000) / 1000.0;
  }
}
