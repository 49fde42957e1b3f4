package dev.outbox.spring;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.actuate.endpoint.EndpointId;
import org.springframework.boot.actuate.endpoint.InvalidEndpointRequestException;
import org.springframework.boot.actuate.endpoint.InvocationContext;
import org.springframework.boot.actuate.endpoint.OperationType;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.invoke.OperationInvoker;
import org.springframework.boot.actuate.endpoint.invoke.OperationInvokerAdvisor;
import org.springframework.boot.actuate.endpoint.invoke.OperationParameter;
import org.springframework.boot.actuate.endpoint.invoke.OperationParameters;
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
 * <p>Among the refusals: a request parameter or JSON body field that the operation does not take.
 * Boot hands an operation every query parameter, path variable and (for a {@code POST}) body field
 * by name, and the operation picks those it declares; anything else is dropped without a word, so
 * {@code DELETE /actuator/outbox?destination=orders&tpye=OrderCancelled} would discard every dead
 * event of {@code orders}. Such a request is refused before the operation runs. Names that start
 * with an underscore ({@code _csrf} of Spring Security, a {@code _} cache buster) belong to other
 * layers and are left to them.
 *
 * <p>An {@link OperationInvokerAdvisor} bean, which Boot's endpoint discoverers apply to the
 * invoker of each operation; it wraps those of the {@code outbox} endpoint only, so it covers the
 * operations of the endpoint and of its web extension alike, on whichever web stack serves them: it
 * sees the arguments as Boot's adapter collected them, not the request. Over JMX, where the
 * arguments are exactly an operation's signature, a refusal stays the exception it was.
 */
final class EndpointRefusals implements OperationInvokerAdvisor {

  static final MimeType JSON = MimeType.valueOf("application/json");

  @Override
  public OperationInvoker apply(
      EndpointId endpointId,
      OperationType operationType,
      OperationParameters parameters,
      OperationInvoker invoker) {
    return advise(endpointId, parameters, invoker);
  }

  /**
   * {@code invoker}, if it is the endpoint's: over HTTP refusing what its operation does not take,
   * and answering its refusals with their reason.
   */
  static OperationInvoker advise(
      EndpointId endpoint, OperationParameters parameters, OperationInvoker invoker) {
    if (!OutboxEndpoint.ID.equals(endpoint)) {
      return invoker;
    }
    return context -> {
      if (!overHttp(context)) {
        return invoker.invoke(context);
      }
      String unknown = unknownParameters(parameters, context);
      if (unknown != null) {
        return badRequest(unknown);
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

  /**
   * The refusal of the arguments that the operation does not take, or null if there are none. An
   * operation takes by name those of its parameters that the invocation does not resolve by type
   * (as it does the caller's {@code SecurityContext}).
   */
  static @Nullable String unknownParameters(
      OperationParameters parameters, InvocationContext context) {
    List<OperationParameter> taken =
        parameters.stream().filter(p -> !context.canResolve(p.getType())).toList();
    Set<String> names = taken.stream().map(OperationParameter::getName).collect(Collectors.toSet());
    List<String> unknown =
        context.getArguments().keySet().stream()
            .filter(name -> !names.contains(name) && !name.startsWith("_"))
            .toList();
    if (unknown.isEmpty()) {
      return null;
    }
    List<String> accepted =
        taken.stream()
            .filter(p -> p.getAnnotation(Selector.class) == null)
            .map(OperationParameter::getName)
            .toList();
    return "Unknown parameter"
        + (unknown.size() == 1 ? " " : "s ")
        + unknown.stream().map(name -> "'" + name + "'").collect(Collectors.joining(", "))
        + ", nothing was done; this request takes "
        + (accepted.isEmpty() ? "no parameters" : String.join(", ", accepted));
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
