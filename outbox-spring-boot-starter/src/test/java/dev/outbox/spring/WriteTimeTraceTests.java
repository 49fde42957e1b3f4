package dev.outbox.spring;

import static org.assertj.core.api.Assertions.assertThat;

import brave.Tracing;
import dev.outbox.spring.ObservedOutboxTransport.WriteTimeTrace;
import io.micrometer.tracing.TraceContext;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.brave.bridge.BraveBaggageManager;
import io.micrometer.tracing.brave.bridge.BraveCurrentTraceContext;
import io.micrometer.tracing.brave.bridge.BraveTracer;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The writer's trace context, read back from the headers captured at write time, in each format a
 * propagator may have written: the relay's send span becomes its child, sampled as the writer was.
 */
class WriteTimeTraceTests {

  private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
  private static final String SPAN_ID = "00f067aa0ba902b7";

  private final Tracing tracing = Tracing.newBuilder().build();
  private final Tracer tracer =
      new BraveTracer(
          tracing.tracer(),
          new BraveCurrentTraceContext(tracing.currentTraceContext()),
          new BraveBaggageManager());

  @AfterEach
  void close() {
    tracing.close();
  }

  private TraceContext read(Map<String, String> headers) {
    return WriteTimeTrace.of(headers, tracer);
  }

  @Test
  void w3cTraceparentIsSampledWhenTheLowestFlagBitIsSet() {
    for (String flags : new String[] {"01", "03", "ff"}) {
      TraceContext context =
          read(Map.of("traceparent", "00-" + TRACE_ID + "-" + SPAN_ID + "-" + flags));
      assertThat(context).as(flags).isNotNull();
      assertThat(context.traceId()).isEqualTo(TRACE_ID);
      assertThat(context.spanId()).isEqualTo(SPAN_ID);
      assertThat(context.sampled()).as(flags).isTrue();
    }
    for (String flags : new String[] {"00", "02"}) {
      assertThat(
              read(Map.of("traceparent", "00-" + TRACE_ID + "-" + SPAN_ID + "-" + flags)).sampled())
          .as(flags)
          .isFalse();
    }
  }

  @Test
  void aTraceparentWithUnreadableFlagsIsNoContext() {
    assertThat(read(Map.of("traceparent", "00-" + TRACE_ID + "-" + SPAN_ID + "-zz"))).isNull();
    assertThat(read(Map.of("traceparent", "00-" + TRACE_ID + "-" + SPAN_ID + "-1"))).isNull();
  }

  @Test
  void b3SingleHeader() {
    TraceContext context = read(Map.of("b3", TRACE_ID + "-" + SPAN_ID + "-0"));
    assertThat(context.traceId()).isEqualTo(TRACE_ID);
    assertThat(context.spanId()).isEqualTo(SPAN_ID);
    assertThat(context.sampled()).isFalse();
    assertThat(read(Map.of("b3", TRACE_ID + "-" + SPAN_ID + "-1")).sampled()).isTrue();
  }

  @Test
  void b3MultiHeadersInEitherSpelling() {
    TraceContext context =
        read(Map.of("X-B3-TraceId", TRACE_ID, "X-B3-SpanId", SPAN_ID, "X-B3-Sampled", "1"));
    assertThat(context).isNotNull();
    assertThat(context.traceId()).isEqualTo(TRACE_ID);
    assertThat(context.spanId()).isEqualTo(SPAN_ID);
    assertThat(context.sampled()).isTrue();

    TraceContext lowerCase =
        read(Map.of("x-b3-traceid", TRACE_ID, "x-b3-spanid", SPAN_ID, "x-b3-sampled", "0"));
    assertThat(lowerCase).isNotNull();
    assertThat(lowerCase.sampled()).isFalse();
  }

  @Test
  void noTraceHeadersIsNoContext() {
    assertThat(read(Map.of("other", "x"))).isNull();
  }
}
