package dev.outbox.spring;

import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.actuate.endpoint.SecurityContext;
import org.springframework.boot.actuate.endpoint.annotation.DeleteOperation;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.boot.actuate.endpoint.web.annotation.EndpointWebExtension;

/**
 * The {@code outbox} endpoint over HTTP: the operator page ({@code GET /actuator/outbox/ui}) and
 * the write operations, the same as {@link OutboxEndpoint}'s with the request's principal in the
 * audit log. Subject to the endpoint's access level and exposure like the endpoint itself
 * (read-only by default: the page, but no writes).
 *
 * <p>Over HTTP, a parameter or body field an operation does not take is refused before it runs, and
 * a refusal is answered with a 400 whose JSON body says why ({@link EndpointRefusals}).
 */
@EndpointWebExtension(endpoint = OutboxEndpoint.class)
public class OutboxEndpointWebExtension {

  private final OutboxEndpoint endpoint;

  public OutboxEndpointWebExtension(OutboxEndpoint endpoint) {
    this.endpoint = endpoint;
  }

  /**
   * {@code GET /actuator/outbox/ui}: the operator page, one self-contained HTML document that reads
   * this endpoint and the {@code metrics} endpoint from the browser. Any other name is not found.
   */
  @ReadOperation(produces = OperatorPage.MEDIA_TYPE)
  public WebEndpointResponse<String> page(@Selector String page) {
    if (!OperatorPage.NAME.equals(page)) {
      return new WebEndpointResponse<>(WebEndpointResponse.STATUS_NOT_FOUND);
    }
    return new WebEndpointResponse<>(OperatorPage.html(), OperatorPage.CONTENT_TYPE);
  }

  /**
   * {@code POST /actuator/outbox/{id}}: replays one dead event (see {@link
   * OutboxEndpoint#replay(String)} for how {@code outbox.retry.max-age} treats it).
   */
  @WriteOperation
  public Map<String, Object> replay(SecurityContext caller, @Selector String id) {
    return endpoint.replay(OutboxEndpoint.who(caller.getPrincipal()), id);
  }

  /** {@code POST /actuator/outbox/relay/{pause|resume|drain}}: controls this instance's relay. */
  @WriteOperation
  public Map<String, Object> control(
      SecurityContext caller, @Selector String target, @Selector String action) {
    return endpoint.control(OutboxEndpoint.who(caller.getPrincipal()), target, action);
  }

  /** {@code DELETE /actuator/outbox/{id}}: discards one dead event. */
  @DeleteOperation
  public Map<String, Object> discard(SecurityContext caller, @Selector String id) {
    return endpoint.discard(OutboxEndpoint.who(caller.getPrincipal()), id);
  }

  /**
   * {@code POST /actuator/outbox} with the filter as JSON: replays the matching dead events (see
   * {@link OutboxEndpoint#replay(String)} for how {@code outbox.retry.max-age} treats them).
   */
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
}
