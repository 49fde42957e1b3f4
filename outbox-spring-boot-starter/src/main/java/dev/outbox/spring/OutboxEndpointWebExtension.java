package dev.outbox.spring;

import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.actuate.endpoint.SecurityContext;
import org.springframework.boot.actuate.endpoint.annotation.DeleteOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.boot.actuate.endpoint.web.annotation.EndpointWebExtension;

/**
 * The write operations of the {@code outbox} endpoint over HTTP: the same as {@link
 * OutboxEndpoint}'s, with the request's principal in the audit log. Subject to the endpoint's
 * access level like the endpoint itself (read-only by default).
 */
@EndpointWebExtension(endpoint = OutboxEndpoint.class)
public class OutboxEndpointWebExtension {

  private final OutboxEndpoint endpoint;

  public OutboxEndpointWebExtension(OutboxEndpoint endpoint) {
    this.endpoint = endpoint;
  }

  /** {@code POST /actuator/outbox/{id}}: replays one dead event. */
  @WriteOperation
  public Map<String, Object> replay(SecurityContext caller, @Selector String id) {
    return endpoint.replay(OutboxEndpoint.who(caller.getPrincipal()), id);
  }

  /** {@code DELETE /actuator/outbox/{id}}: discards one dead event. */
  @DeleteOperation
  public Map<String, Object> discard(SecurityContext caller, @Selector String id) {
    return endpoint.discard(OutboxEndpoint.who(caller.getPrincipal()), id);
  }

  /** {@code POST /actuator/outbox} with the filter as JSON: replays the matching dead events. */
  @WriteOperation
  public Map<String, Object> replayMatching(
      SecurityContext caller,
      @Nullable String destination,
      @Nullable String type,
      @Nullable String key,
      @Nullable String error,
      @Nullable String deadFrom,
      @Nullable String deadTo,
      @Nullable String createdFrom,
      @Nullable String createdTo,
      @Nullable Boolean all) {
    return endpoint.replayMatching(
        OutboxEndpoint.who(caller.getPrincipal()),
        destination,
        type,
        key,
        error,
        deadFrom,
        deadTo,
        createdFrom,
        createdTo,
        all);
  }

  /** {@code DELETE /actuator/outbox?...}: discards the matching dead events. */
  @DeleteOperation
  public Map<String, Object> discardMatching(
      SecurityContext caller,
      @Nullable String destination,
      @Nullable String type,
      @Nullable String key,
      @Nullable String error,
      @Nullable String deadFrom,
      @Nullable String deadTo,
      @Nullable String createdFrom,
      @Nullable String createdTo,
      @Nullable Boolean all) {
    return endpoint.discardMatching(
        OutboxEndpoint.who(caller.getPrincipal()),
        destination,
        type,
        key,
        error,
        deadFrom,
        deadTo,
        createdFrom,
        createdTo,
        all);
  }
}
