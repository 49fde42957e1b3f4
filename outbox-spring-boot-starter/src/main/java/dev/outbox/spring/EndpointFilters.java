package dev.outbox.spring;

import dev.outbox.OutboxException;
import dev.outbox.store.DeadEventFilter;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.actuate.endpoint.InvalidEndpointRequestException;

/**
 * The dead event filters of the {@code outbox} endpoint, from request parameters: bad values are
 * refused as invalid requests (HTTP 400) with what is wrong.
 */
final class EndpointFilters {

  private static final String FILTER_NAMES =
      "destination, type, key, error, deadFrom, deadTo, createdFrom, createdTo";

  private EndpointFilters() {}

  static DeadEventFilter bulk(
      String operation,
      @Nullable String destination,
      @Nullable String type,
      @Nullable String key,
      @Nullable String error,
      @Nullable String deadFrom,
      @Nullable String deadTo,
      @Nullable String createdFrom,
      @Nullable String createdTo,
      @Nullable Boolean all) {
    DeadEventFilter filter =
        of(destination, type, key, error, deadFrom, deadTo, createdFrom, createdTo);
    boolean everything = Boolean.TRUE.equals(all);
    if (filter.matchesAll() && !everything) {
      throw invalid(
          "A bulk "
              + operation
              + " needs at least one of "
              + FILTER_NAMES
              + ", or all=true to "
              + operation
              + " every dead event");
    }
    if (everything && !filter.matchesAll()) {
      throw invalid("all=true cannot be combined with a filter (" + filter.describe() + ")");
    }
    return filter;
  }

  static DeadEventFilter of(
      @Nullable String destination,
      @Nullable String type,
      @Nullable String key,
      @Nullable String error,
      @Nullable String deadFrom,
      @Nullable String deadTo,
      @Nullable String createdFrom,
      @Nullable String createdTo) {
    try {
      return new DeadEventFilter(
          destination,
          type,
          key,
          error,
          time("deadFrom", deadFrom),
          time("deadTo", deadTo),
          time("createdFrom", createdFrom),
          time("createdTo", createdTo));
    } catch (OutboxException ex) {
      throw invalid(ex.getMessage());
    }
  }

  private static @Nullable Instant time(String name, @Nullable String value) {
    if (value == null) {
      return null;
    }
    try {
      return OffsetDateTime.parse(value).toInstant();
    } catch (DateTimeParseException ex) {
      throw invalid(
          "'"
              + name
              + "' must be an ISO-8601 time with an offset, such as 2026-01-31T08:00:00Z, was '"
              + value
              + "'");
    }
  }

  static InvalidEndpointRequestException invalid(String message) {
    return new InvalidEndpointRequestException(message, message);
  }
}
