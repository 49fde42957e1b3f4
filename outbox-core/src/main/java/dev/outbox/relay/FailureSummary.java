package dev.outbox.relay;

import dev.outbox.OutboxEvent;
import dev.outbox.transport.Failures;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A batch's failures in one log line: per destination, how many events failed and the first
 * failure, with a few event ids to look up. The per-event lines are at DEBUG.
 */
final class FailureSummary {

  /** Event ids named per destination; the rest are counted. */
  static final int IDS_SHOWN = 3;

  private FailureSummary() {}

  static <T> String of(
      List<T> failed, Function<T, OutboxEvent> event, Function<T, Throwable> failure) {
    Map<String, List<T>> byDestination = new LinkedHashMap<>();
    for (T one : failed) {
      byDestination
          .computeIfAbsent(event.apply(one).destination(), d -> new ArrayList<>())
          .add(one);
    }
    StringBuilder out = new StringBuilder();
    byDestination.forEach(
        (destination, events) -> {
          if (!out.isEmpty()) {
            out.append("; ");
          }
          out.append(destination).append(": ").append(events.size()).append(" (event ");
          for (int i = 0; i < Math.min(IDS_SHOWN, events.size()); i++) {
            out.append(i == 0 ? "" : ", ").append(event.apply(events.get(i)).id());
          }
          if (events.size() > IDS_SHOWN) {
            out.append(", …");
          }
          out.append(") ").append(Failures.describe(failure.apply(events.get(0))));
        });
    return out.toString();
  }
}
