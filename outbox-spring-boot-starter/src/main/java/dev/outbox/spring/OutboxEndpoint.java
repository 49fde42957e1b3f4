package dev.outbox.spring;

import dev.outbox.relay.OutboxRelay;
import dev.outbox.store.DeadEventFilter;
import dev.outbox.store.OutboxRepository;
import dev.outbox.store.Slots;
import java.security.Principal;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.LongConsumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.actuate.endpoint.Access;
import org.springframework.boot.actuate.endpoint.EndpointAccessResolver;
import org.springframework.boot.actuate.endpoint.EndpointId;
import org.springframework.boot.actuate.endpoint.annotation.DeleteOperation;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;

/**
 * The {@code outbox} Actuator endpoint.
 *
 * <ul>
 *   <li>{@code GET}: counts, relay state and the first {@value #DEAD_LIMIT} dead events, optionally
 *       only those matching a filter (query parameters {@code destination}, {@code type}, {@code
 *       key}, {@code error}, {@code deadFrom}, {@code deadTo}, {@code createdFrom}, {@code
 *       createdTo});
 *   <li>{@code POST /{id}} replays one dead event, {@code DELETE /{id}} discards it;
 *   <li>{@code POST} (filter in the JSON body) replays, {@code DELETE} (filter as query parameters)
 *       discards every dead event matching the filter; an empty filter is refused unless {@code
 *       all=true}.
 * </ul>
 *
 * <p>Over HTTP a parameter (or {@code POST} body field) that an operation does not take is refused
 * with a 400 naming it, and every refusal's body says why ({@link OutboxEndpointWebExtension}).
 *
 * <p>Read-only unless the application sets {@code management.endpoint.outbox.access=unrestricted}:
 * the write operations can resend or delete undelivered events. Each write is logged (logger {@code
 * dev.outbox.spring.OutboxEndpoint}; replays at INFO, discards at WARN) with the caller's
 * principal, the operation, its filter and how many events it changed. Exposed only if the
 * application exposes it ({@code management.endpoints.web.exposure.include=outbox}).
 */
@Endpoint(id = "outbox", defaultAccess = Access.READ_ONLY)
public class OutboxEndpoint {

  private static final Logger log = LoggerFactory.getLogger(OutboxEndpoint.class);

  static final int DEAD_LIMIT = 100;

  /** Pending rows read per relay slot for the backlog per destination (64 slots: 32,000 rows). */
  static final int BACKLOG_ROWS_PER_SLOT = 500;

  /** The most recent dead events read to group them. */
  static final int DEAD_GROUP_SCAN = 10_000;

  /** Groups of dead events listed, largest first. */
  static final int DEAD_GROUP_LIMIT = 100;

  static final EndpointId ID = EndpointId.of("outbox");

  /** The caller in the audit log of an HTTP request without an authenticated principal. */
  static final String NO_PRINCIPAL = "an unauthenticated caller";

  /** The caller in the audit log of an operation invoked over JMX (Boot passes no principal). */
  static final String JMX_CALLER = "a JMX client";

  private final OutboxRepository repository;
  private final @Nullable OutboxRelay relay;
  private final @Nullable EndpointAccessResolver access;
  private @Nullable OutboxRelayControl control;
  private @Nullable LongConsumer wakeUp;

  public OutboxEndpoint(OutboxRepository repository, @Nullable OutboxRelay relay) {
    this(repository, relay, null);
  }

  /**
   * @param access resolves the endpoint's access level, to tell clients whether the write
   *     operations exist ({@code writable}); without it they are reported as absent
   */
  public OutboxEndpoint(
      OutboxRepository repository,
      @Nullable OutboxRelay relay,
      @Nullable EndpointAccessResolver access) {
    this.repository = repository;
    this.relay = relay;
    this.access = access;
  }

  /** Enables {@code POST /actuator/outbox/relay/{pause|resume|drain}}. */
  void setControl(@Nullable OutboxRelayControl control) {
    this.control = control;
  }

  /**
   * Wakes the relays that publish replayed events, with the slots to look at (a bit set, see {@code
   * dev.outbox.store.Slots}): this instance's and, through {@code NOTIFY}, other instances' for the
   * slots they hold. Without it a replay wakes this instance's relay only, and an event in a slot
   * another instance holds waits for that relay's next poll.
   */
  void setWakeUp(@Nullable LongConsumer wakeUp) {
    this.wakeUp = wakeUp;
  }

  /** The summary, with the dead events matching the filter (all of them when none is given). */
  @ReadOperation
  public Map<String, Object> summary(
      @Nullable String destination,
      @Nullable String type,
      @Nullable String key,
      @Nullable String error,
      @Nullable String deadFrom,
      @Nullable String deadTo,
      @Nullable String createdFrom,
      @Nullable String createdTo) {
    DeadEventFilter filter =
        EndpointFilters.of(destination, type, key, error, deadFrom, deadTo, createdFrom, createdTo);
    OutboxRepository.Stats stats = repository.stats();
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("pending", stats.pending());
    result.put("dead", stats.dead());
    result.put("oldestPending", stats.oldestPending().map(Object::toString).orElse(null));
    if (relay != null) {
      Map<String, Object> state = new LinkedHashMap<>();
      state.put("running", relay.isRunning());
      state.put("healthy", relay.isHealthy());
      state.put("lastFailure", String.valueOf(relay.lastFailure()));
      state.put("paused", control != null && control.isPaused());
      state.put("member", relay.member());
      state.put("slots", relay.ownedSlots());
      result.put("relay", state);
    }
    List<OutboxRepository.DeadEvent> found =
        filter.matchesAll()
            ? repository.findDead(DEAD_LIMIT)
            : repository.findDead(filter, DEAD_LIMIT);
    if (!filter.matchesAll()) {
      result.put("filter", filter.describe());
    }
    result.put("deadEvents", found.stream().map(OutboxEndpoint::describe).toList());
    result.put("writable", writable());
    result.put("backlog", backlog());
    result.put("deadGroups", deadGroups());
    return result;
  }

  /** Whether the write operations (replay, discard) are available: unrestricted access. */
  boolean writable() {
    return access != null && access.accessFor(ID, Access.READ_ONLY) == Access.UNRESTRICTED;
  }

  private @Nullable Map<String, Object> backlog() {
    OutboxRepository.Backlog backlog;
    try {
      backlog = repository.backlog(BACKLOG_ROWS_PER_SLOT);
    } catch (UnsupportedOperationException ex) {
      return null;
    }
    Map<String, Object> result = new LinkedHashMap<>();
    result.put(
        "destinations",
        backlog.destinations().stream()
            .map(
                d -> {
                  Map<String, Object> map = new LinkedHashMap<>();
                  map.put("destination", d.destination());
                  map.put("pending", d.pending());
                  map.put("oldestPending", d.oldestPending().toString());
                  return map;
                })
            .toList());
    result.put("complete", backlog.complete());
    return result;
  }

  private @Nullable Map<String, Object> deadGroups() {
    OutboxRepository.DeadGroups groups;
    try {
      groups = repository.deadGroups(DEAD_GROUP_SCAN, DEAD_GROUP_LIMIT);
    } catch (UnsupportedOperationException ex) {
      return null;
    }
    Map<String, Object> result = new LinkedHashMap<>();
    result.put(
        "groups",
        groups.groups().stream()
            .map(
                g -> {
                  Map<String, Object> map = new LinkedHashMap<>();
                  map.put("destination", g.destination());
                  map.put("type", g.type());
                  map.put("error", g.error());
                  map.put("count", g.count());
                  map.put("firstDeadAt", g.firstDeadAt().toString());
                  map.put("lastDeadAt", g.lastDeadAt().toString());
                  return map;
                })
            .toList());
    result.put("complete", groups.complete());
    return result;
  }

  /** The summary without a filter. */
  public Map<String, Object> summary() {
    return summary(null, null, null, null, null, null, null, null);
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

  /**
   * Puts a dead event back to pending with no attempts; the relay publishes it again with the same
   * id. Its {@code created_at} (the CloudEvents {@code time}) stays, and {@code
   * outbox.retry.max-age} is measured from it: a replayed event already older than that is
   * dead-lettered again at its first retryable failure, without a retry (docs/operations.md,
   * "Replaying and outbox.retry.max-age").
   */
  @WriteOperation
  public Map<String, Object> replay(@Selector String id) {
    return replay(JMX_CALLER, id);
  }

  Map<String, Object> replay(String who, String id) {
    UUID uuid = id(id);
    long replayed =
        audited(who, "replayed", "dead event " + id, () -> repository.replay(uuid) ? 1L : 0L);
    if (replayed > 0) {
      wakeRelay();
    }
    return Map.of("id", id, "replayed", replayed > 0);
  }

  /**
   * Pauses, resumes or drains this instance's relay ({@link OutboxRelayControl}): {@code POST
   * /actuator/outbox/relay/pause}, {@code .../resume}, {@code .../drain} (waits up to {@value
   * #DRAIN_SECONDS} s for what is due to be published).
   */
  @WriteOperation
  public Map<String, Object> control(@Selector String target, @Selector String action) {
    return control(JMX_CALLER, target, action);
  }

  /** How long the endpoint's drain waits. */
  static final long DRAIN_SECONDS = 30;

  Map<String, Object> control(String who, String target, String action) {
    if (!"relay".equals(target)) {
      throw EndpointFilters.invalid(
          "'"
              + target
              + "' is not something to control here; use /relay/pause, /relay/resume or"
              + " /relay/drain");
    }
    OutboxRelayControl relayControl = control;
    if (relayControl == null) {
      throw EndpointFilters.invalid("This instance has no outbox relay to " + action);
    }
    Map<String, Object> result = new LinkedHashMap<>();
    try {
      switch (action) {
        case "pause" -> relayControl.pause();
        case "resume" -> relayControl.resume();
        case "drain" ->
            result.put("drained", relayControl.drain(Duration.ofSeconds(DRAIN_SECONDS)));
        default ->
            throw EndpointFilters.invalid(
                "'" + action + "' is not a relay action; use pause, resume or drain");
      }
    } catch (IllegalStateException ex) {
      log.warn("Outbox endpoint: {} could not {} the relay: {}", who, action, ex.getMessage());
      throw EndpointFilters.invalid(ex.getMessage());
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      throw EndpointFilters.invalid("Interrupted while draining the relay");
    }
    log.info("Outbox endpoint: {} {} the relay", who, PAST.get(action));
    result.put("paused", relayControl.isPaused());
    return result;
  }

  private static final Map<String, String> PAST =
      Map.of("pause", "paused", "resume", "resumed", "drain", "drained");

  /** Deletes a dead event for good. */
  @DeleteOperation
  public Map<String, Object> discard(@Selector String id) {
    return discard(JMX_CALLER, id);
  }

  Map<String, Object> discard(String who, String id) {
    UUID uuid = id(id);
    long discarded =
        audited(who, "discarded", "dead event " + id, () -> repository.discard(uuid) ? 1L : 0L);
    return Map.of("id", id, "discarded", discarded > 0);
  }

  /**
   * Replays every dead event matching the filter (JSON body); {@code all=true} for all of them. As
   * with {@link #replay(String)}, those already older than {@code outbox.retry.max-age} get one
   * attempt: a retryable failure dead-letters them again.
   */
  @WriteOperation
  public Map<String, Object> replayMatching(
      @Nullable String destination,
      @Nullable String type,
      @Nullable String key,
      @Nullable String error,
      @Nullable String deadFrom,
      @Nullable String deadTo,
      @Nullable String createdFrom,
      @Nullable String createdTo,
      @Nullable Boolean all) {
    return replayMatching(
        JMX_CALLER,
        EndpointFilters.bulk(
            "replay",
            destination,
            type,
            key,
            error,
            deadFrom,
            deadTo,
            createdFrom,
            createdTo,
            all));
  }

  Map<String, Object> replayMatching(String who, DeadEventFilter filter) {
    long replayed =
        audited(
            who, "replayed", "dead events matching " + filter, () -> repository.replayDead(filter));
    if (replayed > 0) {
      wakeRelay();
    }
    return bulkResult("replayed", replayed, filter);
  }

  /** Discards every dead event matching the filter (query parameters); {@code all=true} for all. */
  @DeleteOperation
  public Map<String, Object> discardMatching(
      @Nullable String destination,
      @Nullable String type,
      @Nullable String key,
      @Nullable String error,
      @Nullable String deadFrom,
      @Nullable String deadTo,
      @Nullable String createdFrom,
      @Nullable String createdTo,
      @Nullable Boolean all) {
    return discardMatching(
        JMX_CALLER,
        EndpointFilters.bulk(
            "discard",
            destination,
            type,
            key,
            error,
            deadFrom,
            deadTo,
            createdFrom,
            createdTo,
            all));
  }

  Map<String, Object> discardMatching(String who, DeadEventFilter filter) {
    long discarded =
        audited(
            who,
            "discarded",
            "dead events matching " + filter,
            () -> repository.discardDead(filter));
    return bulkResult("discarded", discarded, filter);
  }

  /** Wakes the relays of every instance that holds slots: a replay does not say which ones. */
  private void wakeRelay() {
    LongConsumer relays = wakeUp;
    if (relays != null) {
      relays.accept(Slots.ALL);
    } else if (relay != null) {
      relay.wakeUp();
    }
  }

  private static Map<String, Object> bulkResult(String verb, long count, DeadEventFilter filter) {
    Map<String, Object> result = new LinkedHashMap<>();
    result.put(verb, count);
    result.put("filter", filter.matchesAll() ? Map.of("all", "true") : filter.describe());
    return result;
  }

  /**
   * Runs a write and logs who did what to how many events: replays at INFO, discards at WARN;
   * failures at WARN with the cause.
   */
  private static long audited(String who, String verb, String what, Supplier<Long> write) {
    long count;
    try {
      count = write.get();
    } catch (RuntimeException ex) {
      log.warn("Outbox endpoint: {} could not have {} {}: {}", who, verb, what, ex.getMessage());
      throw ex;
    }
    if ("discarded".equals(verb)) {
      log.warn("Outbox endpoint: {} {} {}: {} event(s)", who, verb, what, count);
    } else {
      log.info("Outbox endpoint: {} {} {}: {} event(s)", who, verb, what, count);
    }
    return count;
  }

  /** Who called, for the audit log: the principal's name, or that there was none. */
  static String who(@Nullable Principal principal) {
    return principal == null ? NO_PRINCIPAL : "'" + principal.getName() + "'";
  }

  private static UUID id(String id) {
    try {
      return UUID.fromString(id);
    } catch (IllegalArgumentException ex) {
      throw EndpointFilters.invalid("'" + id + "' is not an event id (a UUID)");
    }
  }
}
