package dev.outbox.relay;

import dev.outbox.OutboxEvent;
import dev.outbox.transport.Failures;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ToIntFunction;

/**
 * A batch's failures in one log line: per destination, how many events failed, a few event ids to
 * look up, the attempt (or the range of attempts) that failed and the first failure. The per-event
 * lines are at DEBUG.
 */
final class FailureSummary {

  /** Event ids named per destination; the rest are counted. */
  static final int IDS_SHOWN = 3;

  private FailureSummary() {}

  /**
   * @param attempt the number of the attempt that failed (1 for the first send)
   */
  static <T> String of(
      List<T> failed,
      Function<T, OutboxEvent> event,
      ToIntFunction<T> attempt,
      Function<T, Throwable> failure) {
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
          int first = events.stream().mapToInt(attempt).min().orElseThrow();
          int last = events.stream().mapToInt(attempt).max().orElseThrow();
          out.append(first == last ? "; attempt " + first : "; attempts " + first + "–" + last);
          out.append(") ").append(Failures.describe(failure.apply(events.get(0))));
        });
    return out.toString();
  }
}
