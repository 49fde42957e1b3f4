package dev.outbox.spring;

import dev.outbox.OutboxEvent;
import dev.outbox.transport.ForwardingOutboxTransport;
import dev.outbox.transport.OutboxTransport;
import io.micrometer.common.KeyValues;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationConvention;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.transport.Kind;
import io.micrometer.observation.transport.SenderContext;
import io.micrometer.tracing.CurrentTraceContext;
import io.micrometer.tracing.TraceContext;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.propagation.Propagator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * Wraps the relay's transport in an {@link Observation} per event, continuing the trace the
 * application was in when it wrote the event: with Micrometer Tracing (Brave or OpenTelemetry
 * bridge) the relay's send becomes a producer span whose parent is the writer's span, and the
 * message carries the relay span's context, so a consumer's span is a child of the relay's.
 *
 * <p>Only events written inside a trace are observed (their headers hold its context, captured by
 * the starter at write time); the others are sent as they are, so an application without tracing
 * pays nothing per event. The observation is named {@value #NAME}; with Micrometer's default meter
 * handler it also yields a timer of that name.
 */
public final class ObservedOutboxTransport extends ForwardingOutboxTransport {

  /** The observation's name. */
  public static final String NAME = "outbox.relay.send";

  private final ObservationRegistry registry;
  private final Tracer tracer;
  private final Propagator propagator;

  public ObservedOutboxTransport(
      OutboxTransport delegate,
      ObservationRegistry registry,
      Tracer tracer,
      Propagator propagator) {
    super(delegate);
    this.registry = registry;
    this.tracer = tracer;
    this.propagator = propagator;
  }

  @Override
  public CompletableFuture<?> send(OutboxEvent event) {
    if (registry.isNoop()) {
      return delegate().send(event);
    }
    TraceContext writer = WriteTimeTrace.of(event.headers(), tracer);
    if (writer == null) {
      return delegate().send(event);
    }
    Context context = new Context(event);
    Observation observation = Observation.createNotStarted(CONVENTION, () -> context, registry);
    CurrentTraceContext current = tracer.currentTraceContext();
    try (CurrentTraceContext.Scope parent = current.newScope(writer)) {
      observation.start();
    }
    CompletableFuture<?> sent;
    try (Observation.Scope scope = observation.openScope()) {
      sent = delegate().send(withTrace(event, context.getCarrier()));
    } catch (RuntimeException | Error ex) {
      observation.error(ex);
      observation.stop();
      throw ex;
    }
    return sent.whenComplete(
        (ignored, failure) -> {
          if (failure != null) {
            observation.error(failure);
          }
          observation.stop();
        });
  }

  /** The event with the relay span's context in place of the writer's. */
  private OutboxEvent withTrace(OutboxEvent event, Map<String, String> relayTrace) {
    if (relayTrace.isEmpty()) {
      return event;
    }
    Map<String, String> headers = new HashMap<>(event.headers());
    propagator.fields().forEach(headers::remove);
    headers.putAll(relayTrace);
    return new OutboxEvent(
        event.id(),
        event.sequence(),
        event.destination(),
        event.key(),
        event.aggregateType(),
        event.type(),
        event.version(),
        event.payload(),
        headers,
        event.createdAt(),
        event.attempts());
  }

  /** The observation context: a producer send whose carrier collects the relay span's context. */
  static final class Context extends SenderContext<Map<String, String>> {

    private final OutboxEvent event;

    Context(OutboxEvent event) {
      super((carrier, key, value) -> carrier.put(key, value), Kind.PRODUCER);
      this.event = event;
      setCarrier(new HashMap<>());
      setRemoteServiceName("outbox");
    }

    OutboxEvent event() {
      return event;
    }
  }

  private static final ObservationConvention<Context> CONVENTION =
      new ObservationConvention<>() {
        @Override
        public boolean supportsContext(Observation.Context context) {
          return context instanceof Context;
        }

        @Override
        public String getName() {
          return NAME;
        }

        @Override
        public String getContextualName(Context context) {
          return context.event().destination() + " publish";
        }

        @Override
        public KeyValues getLowCardinalityKeyValues(Context context) {
          return KeyValues.of(
              "messaging.destination.name", context.event().destination(),
              "messaging.operation", "publish",
              "outbox.event.type", context.event().type());
        }

        @Override
        public KeyValues getHighCardinalityKeyValues(Context context) {
          KeyValues values = KeyValues.of("messaging.message.id", context.event().id().toString());
          String key = context.event().key();
          return key == null ? values : values.and("outbox.event.key", key);
        }
      };

  /** The trace context captured at write time, read back from the event's headers. */
  static final class WriteTimeTrace {

    private WriteTimeTrace() {}

    /**
     * W3C {@code traceparent}, B3 single-header {@code b3} or B3 multi-header ({@code
     * X-B3-TraceId}, {@code X-B3-SpanId}, {@code X-B3-Sampled}, as the propagator wrote them at
     * write time); null if none is present or readable.
     */
    static @Nullable TraceContext of(Map<String, String> headers, Tracer tracer) {
      String traceparent = headers.get("traceparent");
      if (traceparent != null) {
        // version-traceid-parentid-flags, e.g.
        // 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01; the flags are a bit field,
        // of which the lowest bit says "sampled"
        String[] parts = traceparent.split("-");
        if (parts.length == 4
            && parts[1].length() == 32
            && parts[2].length() == 16
            && parts[3].length() == 2
            && HexFormat.isHexDigit(parts[3].charAt(0))
            && HexFormat.isHexDigit(parts[3].charAt(1))) {
          boolean sampled = (HexFormat.fromHexDigits(parts[3]) & 1) == 1;
          return context(tracer, parts[1], parts[2], sampled);
        }
        return null;
      }
      String b3 = headers.get("b3");
      if (b3 != null) {
        // traceid-spanid[-sampling[-parentspanid]]
        String[] parts = b3.split("-");
        if (parts.length >= 2 && (parts[0].length() == 16 || parts[0].length() == 32)) {
          boolean sampled = parts.length < 3 || "1".equals(parts[2]) || "d".equals(parts[2]);
          return context(tracer, parts[0], parts[1], sampled);
        }
        return null;
      }
      String traceId = anyCase(headers, "X-B3-TraceId");
      String spanId = anyCase(headers, "X-B3-SpanId");
      if (traceId != null
          && spanId != null
          && (traceId.length() == 16 || traceId.length() == 32)
          && spanId.length() == 16) {
        String sampled = anyCase(headers, "X-B3-Sampled");
        return context(
            tracer,
            traceId,
            spanId,
            sampled == null || "1".equals(sampled) || "1".equals(anyCase(headers, "X-B3-Flags")));
      }
      return null;
    }

    /**
     * The header of {@code name} as it is spelled, or in lower case (as some propagators write).
     */
    private static @Nullable String anyCase(Map<String, String> headers, String name) {
      String value = headers.get(name);
      return value != null ? value : headers.get(name.toLowerCase(Locale.ROOT));
    }

    private static TraceContext context(
        Tracer tracer, String traceId, String spanId, boolean sampled) {
      return tracer.traceContextBuilder().traceId(traceId).spanId(spanId).sampled(sampled).build();
    }
  }
}
