package dev.outbox.benchmarks;

import dev.outbox.EventIds;
import dev.outbox.HeaderCapture;
import dev.outbox.OutboxWriter;
import dev.outbox.PayloadSerializer;
import dev.outbox.store.PostgresOutboxRepository;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * B1: what writing one event adds to a business transaction, at one client. Three variants of the
 * same transaction (UPDATE of an account row, then COMMIT) run interleaved on one connection so
 * that they see the same conditions: without an event, with one event through {@link OutboxWriter},
 * and with a hand-written INSERT of the same row into an equivalent table.
 */
final class TxCostCase {

  private static final String HAND_INSERT =
      "INSERT INTO hand_event (id, destination, event_key, aggregate_type, event_type,"
          + " event_version, payload, headers, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?::jsonb,"
          + " ?)";

  private TxCostCase() {}

  static Map<String, Object> run(Settings settings, double seconds, double warmupSeconds) {
    try (var pool = Db.pool(settings, "b1", 1)) {
      PostgresOutboxRepository repository = new PostgresOutboxRepository(pool, Db.OUTBOX);
      PayloadSerializer serializer = Library.serializer();
      OutboxWriter writer =
          new OutboxWriter(repository, serializer, HeaderCapture.none(), Clock.systemUTC());
      Histogram[] histograms = {Pct.micros(), Pct.micros(), Pct.micros()};
      long warmupEnd = System.nanoTime() + (long) (warmupSeconds * 1e9);
      long end = warmupEnd + (long) (seconds * 1e9);
      long n = 0;
      Child.emit("WINDOW-START");
      try (Connection connection = pool.getConnection()) {
        connection.setAutoCommit(false);
        try (PreparedStatement update = connection.prepareStatement(Library.UPDATE_ACCOUNT);
            PreparedStatement hand = connection.prepareStatement(HAND_INSERT)) {
          while (true) {
            long now = System.nanoTime();
            if (now >= end) {
              break;
            }
            int variant = (int) (n % 3);
            long started = System.nanoTime();
            update.setLong(1, n % Db.ACCOUNTS);
            update.executeUpdate();
            if (variant == 1) {
              writer.write(connection, Library.messages("orders", n, 1, 10_000));
            } else if (variant == 2) {
              OrderEvent event = OrderEvent.of(n, 10_000);
              hand.setObject(1, EventIds.next());
              hand.setString(2, "orders");
              hand.setString(3, event.orderId());
              hand.setString(4, "Order");
              hand.setString(5, OrderEvent.TOPIC_TYPE);
              hand.setInt(6, 1);
              hand.setString(7, serializer.serialize(event));
              hand.setString(8, "{}");
              hand.setTimestamp(9, Timestamp.from(Instant.now()));
              hand.executeUpdate();
            }
            connection.commit();
            long micros = (System.nanoTime() - started) / 1000;
            if (started >= warmupEnd) {
              histograms[variant].recordValue(micros);
            }
            n++;
          }
        }
      } catch (SQLException ex) {
        throw new IllegalStateException(ex);
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

  static double round(double value) {
    return Math.round(value * 1000) / 1000.0;
  }
}
