package dev.outbox.spring;

import dev.outbox.HeaderCapture;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.propagation.Propagator;
import java.util.HashMap;
import java.util.Map;

/**
 * Captures the current trace context at write time with Micrometer Tracing's propagator (W3C {@code
 * traceparent}/{@code tracestate} with the default OpenTelemetry or Brave setup), so the trace
 * continues from producer through outbox and broker to the consumer.
 */
final class TracingHeaderCapture implements HeaderCapture {

  private final Tracer tracer;
  private final Propagator propagator;

  TracingHeaderCapture(Tracer tracer, Propagator propagator) {
    this.tracer = tracer;
    this.propagator = propagator;
  }

  @Override
  public Map<String, String> capture() {
    Span span = tracer.currentSpan();
    if (span == null) {
      return Map.of();
    }
    Map<String, String> headers = new HashMap<>(4);
    propagator.inject(span.context(), headers, Map::put);
    return headers;
  }
}
