package dev.outbox.store;

import dev.outbox.OutboxException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Which dead events a bulk operation touches: every criterion that is set must match; unset ({@code
 * null}) criteria match everything. Immutable: start from {@link #all()} and narrow with the {@code
 * withX} methods.
 *
 * <ul>
 *   <li>{@code destination}, {@code type} (the event type name, any version) and {@code key} match
 *       exactly;
 *   <li>{@code errorContains} matches when the last error contains the text, ignoring case (a plain
 *       substring: {@code %} and {@code _} have no special meaning);
 *   <li>{@code deadFrom}/{@code deadTo} bound the time the event was dead-lettered (its last
 *       attempt), {@code createdFrom}/{@code createdTo} the time it was written; each range is
 *       half-open: from inclusive, to exclusive.
 * </ul>
 */
public record DeadEventFilter(
    @Nullable String destination,
    @Nullable String type,
    @Nullable String key,
    @Nullable String errorContains,
    @Nullable Instant deadFrom,
    @Nullable Instant deadTo,
    @Nullable Instant createdFrom,
    @Nullable Instant createdTo) {

  private static final DeadEventFilter ALL =
      new DeadEventFilter(null, null, null, null, null, null, null, null);

  public DeadEventFilter {
    requireNotBlank("destination", destination);
    requireNotBlank("type", type);
    requireNotBlank("key", key);
    requireNotBlank("errorContains", errorContains);
    requireOrdered("deadFrom", deadFrom, "deadTo", deadTo);
    requireOrdered("createdFrom", createdFrom, "createdTo", createdTo);
  }

  /** Matches every dead event. */
  public static DeadEventFilter all() {
    return ALL;
  }

  public DeadEventFilter withDestination(@Nullable String destination) {
    return new DeadEventFilter(
        destination, type, key, errorContains, deadFrom, deadTo, createdFrom, createdTo);
  }

  public DeadEventFilter withType(@Nullable String type) {
    return new DeadEventFilter(
        destination, type, key, errorContains, deadFrom, deadTo, createdFrom, createdTo);
  }

  public DeadEventFilter withKey(@Nullable String key) {
    return new DeadEventFilter(
        destination, type, key, errorContains, deadFrom, deadTo, createdFrom, createdTo);
  }

  public DeadEventFilter withErrorContains(@Nullable String errorContains) {
    return new DeadEventFilter(
        destination, type, key, errorContains, deadFrom, deadTo, createdFrom, createdTo);
  }

  /** Dead-lettered at or after {@code from} and before {@code to}; either may be {@code null}. */
  public DeadEventFilter withDeadBetween(@Nullable Instant from, @Nullable Instant to) {
    return new DeadEventFilter(
        destination, type, key, errorContains, from, to, createdFrom, createdTo);
  }

  /** Written at or after {@code from} and before {@code to}; either may be {@code null}. */
  public DeadEventFilter withCreatedBetween(@Nullable Instant from, @Nullable Instant to) {
    return new DeadEventFilter(destination, type, key, errorContains, deadFrom, deadTo, from, to);
  }

  /** Whether no criterion is set, so the filter matches every dead event. */
  public boolean matchesAll() {
    return equals(ALL);
  }

  /** The criteria that are set, by name, for logs and responses. */
  public Map<String, String> describe() {
    Map<String, String> set = new LinkedHashMap<>();
    put(set, "destination", destination);
    put(set, "type", type);
    put(set, "key", key);
    put(set, "errorContains", errorContains);
    put(set, "deadFrom", deadFrom);
    put(set, "deadTo", deadTo);
    put(set, "createdFrom", createdFrom);
    put(set, "createdTo", createdTo);
    return set;
  }

  @Override
  public String toString() {
    return matchesAll() ? "{all dead events}" : describe().toString();
  }

  private static void put(Map<String, String> map, String name, @Nullable Object value) {
    if (value != null) {
      map.put(name, value.toString());
    }
  }

  private static void requireNotBlank(String name, @Nullable String value) {
    if (value != null && value.isBlank()) {
      throw new OutboxException(
          "Dead event filter '" + name + "' must not be blank; leave it unset to match any value");
    }
  }

  private static void requireOrdered(
      String fromName, @Nullable Instant from, String toName, @Nullable Instant to) {
    if (from != null && to != null && !from.isBefore(to)) {
      throw new OutboxException(
          "Dead event filter '"
              + fromName
              + "' ("
              + from
              + ") must be before '"
              + toName
              + "' ("
              + to
              + ")");
    }
  }
}
