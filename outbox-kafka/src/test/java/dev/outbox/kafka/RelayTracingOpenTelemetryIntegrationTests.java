package dev.outbox.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.OutboxEvent;
import dev.outbox.spring.ObservedOutboxTransport;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.handler.DefaultTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingSenderTracingObservationHandler;
import io.micrometer.tracing.otel.bridge.OtelCurrentTraceContext;
import io.micrometer.tracing.otel.bridge.OtelPropagator;
import io.micrometer.tracing.otel.bridge.OtelTracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The relay's send observation with the OpenTelemetry bridge of Micrometer Tracing (the Spring Boot
 * tests of this module use the Brave bridge: {@code KafkaOutboxEndToEndIntegrationTests}), against
 * the real broker: the relay span is a child of the span the event was written in, and the record a
 * consumer reads names the relay span as its parent.
 */
class RelayTracingOpenTelemetryIntegrationTests {

  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final String TOPIC = "traced-orders";

  private static TestKafka kafka;
  private static KafkaOutboxTransport kafkaTransport;

  private final InMemorySpanExporter spans = InMemorySpanExporter.create();
  private final SdkTracerProvider provider =
      SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans)).build();
  private final OtelCurrentTraceContext currentContext = new OtelCurrentTraceContext();
  private final Tracer tracer =
      new OtelTracer(provider.get("outbox-test"), currentContext, event -> {});
  private final OtelPropagator propagator =
      new OtelPropagator(
          ContextPropagators.create(W3CTraceContextPropagator.getInstance()),
          provider.get("outbox-test"));

  @BeforeAll
  static void startBroker() {
    kafka = TestKafka.start();
    kafka.createTopics(TOPIC);
    kafkaTransport =
        KafkaOutboxTransport.create(
            kafka.producerConfig(), KafkaTransportOptions.defaults().withSource("order-service"));
  }

  @AfterAll
  static void stopBroker() {
    if (kafkaTransport != null) {
      kafkaTransport.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void relaySendIsAChildOfTheWritersSpanAndTheParentOfWhatTheConsumerSees() throws Exception {
    ObservationRegistry registry = ObservationRegistry.create();
    // As Spring Boot sets the tracing handlers up: the first one that supports a context handles
    // it.
    registry
        .observationConfig()
        .observationHandler(
            new ObservationHandler.FirstMatchingCompositeObservationHandler(
                new PropagatingSenderTracingObservationHandler<>(tracer, propagator),
                new DefaultTracingObservationHandler(tracer)));
    ObservedOutboxTransport transport =
        new ObservedOutboxTransport(kafkaTransport, registry, tracer, propagator);

    // What the starter captures at write time inside the application's span.
    Span writer = tracer.nextSpan().name("place-order").start();
    Map<String, String> captured = new HashMap<>();
    propagator.inject(writer.context(), captured, Map::put);
    writer.end();
    String key = "order-" + UUID.randomUUID();
    OutboxEvent event =
        new OutboxEvent(
            UUID.randomUUID(),
            1,
            TOPIC,
            key,
            null,
            "OrderPlaced",
            1,
            "{}",
            captured,
            Instant.now(),
            0);

    transport.send(event).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);

    SpanData relay =
        spans.getFinishedSpanItems().stream()
            .filter(span -> span.getName().equals(TOPIC + " publish"))
            .findFirst()
            .orElseThrow(
                () -> new AssertionError("no relay span in " + spans.getFinishedSpanItems()));
    assertThat(relay.getKind()).isEqualTo(io.opentelemetry.api.trace.SpanKind.PRODUCER);
    assertThat(relay.getTraceId()).isEqualTo(writer.context().traceId());
    assertThat(relay.getParentSpanId()).isEqualTo(writer.context().spanId());
    assertThat(relay.getAttributes().asMap().toString())
        .contains("messaging.message.id=" + event.id());

    List<ConsumerRecord<String, String>> records =
        kafka.read(TOPIC, TIMEOUT, read -> read.stream().anyMatch(r -> key.equals(r.key())));
    ConsumerRecord<String, String> record =
        records.stream().filter(r -> key.equals(r.key())).findFirst().orElseThrow();
    assertThat(TestKafka.header(record, "traceparent"))
        .as("the consumer's parent is the relay span")
        .isEqualTo("00-" + relay.getTraceId() + "-" + relay.getSpanId() + "-01");
  }

  @Test
  void eventsWrittenOutsideATraceAreSentWithoutASpan() throws Exception {
    ObservationRegistry registry = ObservationRegistry.create();
    registry
        .observationConfig()
        .observationHandler(new PropagatingSenderTracingObservationHandler<>(tracer, propagator));
    ObservedOutboxTransport transport =
        new ObservedOutboxTransport(kafkaTransport, registry, tracer, propagator);
    String key = "order-" + UUID.randomUUID();

    transport
        .send(
            new OutboxEvent(
                UUID.randomUUID(),
                1,
                TOPIC,
                key,
                null,
                "OrderPlaced",
                1,
                "{}",
                Map.of(),
                Instant.now(),
                0))
        .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);

    assertThat(spans.getFinishedSpanItems()).isEmpty();
    List<ConsumerRecord<String, String>> records =
        kafka.read(TOPIC, TIMEOUT, read -> read.stream().anyMatch(r -> key.equals(r.key())));
    assertThat(
            TestKafka.header(
                records.stream().filter(r -> key.equals(r.key())).findFirst().orElseThrow(),
                "traceparent"))
        .isNull();
  }
}
