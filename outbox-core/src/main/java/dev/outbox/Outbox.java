package dev.outbox;

import java.util.List;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * The publisher facade: writes events into the outbox inside the caller's transaction. The events
 * are published after the transaction commits; a rollback discards them.
 */
public interface Outbox {

  /**
   * Writes one event.
   *
   * @param destination topic or exchange
   * @param key aggregate id ordering the event, or {@code null}
   * @param payload the object serialized to the JSON body
   * @return the event id
   */
  default UUID publish(String destination, @Nullable String key, Object payload) {
    return publish(OutboxMessage.of(destination, key, payload));
  }

  /** Writes one event and returns its id. */
  default UUID publish(OutboxMessage message) {
    return publishAll(List.of(message)).get(0);
  }

  /** Writes several events in one batched statement, in list order, and returns their ids. */
  List<UUID> publishAll(List<OutboxMessage> messages);
}
