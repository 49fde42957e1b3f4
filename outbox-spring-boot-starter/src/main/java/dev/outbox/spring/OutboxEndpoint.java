package dev.outbox.spring;

import dev.outbox.relay.OutboxRelay;
import dev.outbox.store.OutboxRepository;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.actuate.endpoint.annotation.DeleteOperation;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;

/**
 * The {@code outbox} Actuator endpoint: counts, relay state and dead events ({@code GET}); replay a
 * dead event ({@code POST /{id}}); discard it ({@code DELETE /{id}}). Exposed only if the
 * application exposes it ({@code management.endpoints.web.exposure.include=outbox}).
 */
@Endpoint(id = "outbox")
public class OutboxEndpoint {

  static final int DEAD_LIMIT = 100;

  private final OutboxRepository repository;
  private final @Nullable OutboxRelay relay;

  public OutboxEndpoint(OutboxRepository repository, @Nullable OutboxRelay relay) {
    this.repository = repository;
    this.relay = relay;
  }

  @ReadOperation
  public Map<String, Object> summary() {
    OutboxRepository.Stats stats = repository.stats();
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("pending", stats.pending());
    result.put("dead", stats.dead());
    result.put("oldestPending", stats.oldestPending().map(Object::toString).orElse(null));
    if (relay != null) {
      result.put(
          "relay",
          Map.of(
              "running", relay.isRunning(),
              "healthy", relay.isHealthy(),
              "lastFailure", String.valueOf(relay.lastFailure())));
    }
    List<Map<String, Object>> dead =
        repository.findDead(DEAD_LIMIT).stream().map(OutboxEndpoint::describe).toList();
    result.put("deadEvents", dead);
    return result;
  }

  private static Map<String, Object> describe(OutboxRepository.DeadEvent dead) {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("id", dead.event().id().toString());
    map.put("destination", dead.event().destination());
    map.put("key", dead.event().key());
    map.put("type", dead.event().type());
    map.put("attempts", dead.event().attempts());
    map.put("createdAt", dead.event().createdAt().toString());
    map.put("deadAt", dead.deadAt().toString());
    map.put("lastError", dead.lastError());
    return map;
  }

  /** Puts a dead event back to pending; the relay publishes it again with the same id. */
  @WriteOperation
  public Map<String, Object> replay(@Selector String id) {
    boolean replayed = repository.replay(UUID.fromString(id));
    if (replayed && relay != null) {
      relay.wakeUp();
    }
    return Map.of("id", id, "replayed", replayed);
  }

  /** Deletes a dead event for good. */
  @DeleteOperation
  public Map<String, Object> discard(@Selector String id) {
    return Map.of("id", id, "discarded", repository.discard(UUID.fromString(id)));
  }
}
