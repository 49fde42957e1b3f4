package dev.outbox.relay;

import dev.outbox.EventIds;
import dev.outbox.OutboxEvent;
import java.time.Clock;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** Events as a writer would create them: a new id, written now by {@code clock}. */
final class TestEvents {

  private final Clock clock;
  private int count;

  TestEvents(Clock clock) {
    this.clock = clock;
  }

  OutboxEvent event(String destination, @Nullable String key) {
    count++;
    return new OutboxEvent(
        EventIds.next(),
        0,
        destination,
        key,
        "Order",
        "OrderPlaced",
        1,
        "{\"n\":" + count + "}",
        Map.of(),
        clock.instant(),
        0);
  }

  /** A key other than {@code key} that hashes into {@code slot}. */
  static String keyInSlot(int slot, String prefix) {
    for (int i = 0; ; i++) {
      String key = prefix + "-" + i;
      if (InMemoryOutboxRepository.slotOf(key) == slot) {
        return key;
      }
    }
  }
}
