package dev.outbox.spring;

import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.actuate.endpoint.EndpointId;
import org.springframework.boot.actuate.endpoint.InvalidEndpointRequestException;
import org.springframework.boot.actuate.endpoint.InvocationContext;
import org.springframework.boot.actuate.endpoint.invoke.OperationInvoker;
import org.springframework.boot.actuate.endpoint.invoke.ParameterMappingException;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.boot.actuate.endpoint.web.WebServerNamespace;
import org.springframework.util.MimeType;

/**
 * What the {@code outbox} endpoint refuses over HTTP, answered with the reason: a 400 whose JSON
 * body is {@code {"status": 400, "error": "Bad Request", "message": "<reason>"}}, the fields of
 * Boot's own error body. Boot's web adapters answer an {@link InvalidEndpointRequestException} with
 * a 400 through the application's error handling, whose body leaves the message out by default
 * ({@code server.error.include-message=never}), so an operator would not learn what was wrong.
 *
 * <p>Applied to the invoker of each of the endpoint's operations (by {@link
 * OutboxEndpointWebExtension} as an {@code OperationInvokerAdvisor}), so it covers the operations
 * of the endpoint and of its web extension alike, on whichever web stack serves them. Over JMX a
 * refusal stays the exception it was.
 */
final class EndpointRefusals {

  static final MimeType JSON = MimeType.valueOf("application/json");

  private EndpointRefusals() {}

  /**
   * {@code invoker}, answering its refusals over HTTP with their reason if it is the endpoint's.
   */
  static OperationInvoker advise(EndpointId endpoint, OperationInvoker invoker) {
    if (!OutboxEndpoint.ID.equals(endpoint)) {
      return invoker;
    }
    return context -> {
      if (!overHttp(context)) {
        return invoker.invoke(context);
      }
      try {
        return invoker.invoke(context);
      } catch (InvalidEndpointRequestException ex) {
        return badRequest(reason(ex));
      }
    };
  }

  /**
   * Whether the operation is invoked over HTTP: Boot's web adapters (Spring MVC, WebFlux, Jersey)
   * give each invocation the server's namespace, its JMX adapter does not.
   */
  static boolean overHttp(InvocationContext context) {
    return context.canResolve(WebServerNamespace.class);
  }

  static WebEndpointResponse<Map<String, Object>> badRequest(String reason) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("status", WebEndpointResponse.STATUS_BAD_REQUEST);
    body.put("error", "Bad Request");
    body.put("message", reason);
    return new WebEndpointResponse<>(body, WebEndpointResponse.STATUS_BAD_REQUEST, JSON);
  }

  private static String reason(InvalidEndpointRequestException ex) {
    if (ex instanceof ParameterMappingException mapping) {
      Class<?> type = mapping.getParameter().getType();
      return "'"
          + mapping.getParameter().getName()
          + "' must be "
          + (type == Boolean.class ? "true or false" : "a " + type.getSimpleName())
          + ", was '"
          + mapping.getValue()
          + "'";
    }
    String reason = ex.getReason();
    return reason == null ? String.valueOf(ex.getMessage()) : reason;
  }
}
