package dev.outbox.rabbit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import brave.handler.MutableSpan;
import brave.handler.SpanHandler;
import brave.propagation.TraceContext;
import dev.outbox.rabbit.e2e.ShopApplication;
import dev.outbox.rabbit.e2e.ShopService;
import dev.outbox.test.TestPostgres;
import dev.outbox.test.TestRabbit;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.Tracer;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.rabbit.annotation.Exchange;
import org.springframework.amqp.rabbit.annotation.Queue;
import org.springframework.amqp.rabbit.annotation.QueueBinding;
import org.springframework.amqp.rabbit.annotation.RabbitListener;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.micrometer.tracing.test.autoconfigure.AutoConfigureTracing;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The trace of an event on RabbitMQ, as DESIGN.md promises it: writer → relay send → broker →
 * consumer, one trace. Tracing is Micrometer Tracing with the Brave bridge as Spring Boot
 * auto-configures it, every trace sampled; the consumer is a {@code @RabbitListener} with Spring
 * AMQP's own observation switched on ({@code spring.rabbitmq.listener.simple.observation-enabled}),
 * which continues the trace from the message's {@code traceparent} header, knowing nothing of this
 * library.
 */
@SpringBootTest(
    classes = ShopApplication.class,
    properties = {
      "spring.application.name=shop-service",
      "spring.jpa.hibernate.ddl-auto=create",
      "spring.jpa.open-in-view=false",
      "management.tracing.sampling.probability=1.0",
      "spring.rabbitmq.listener.simple.observation-enabled=true"
    })
@AutoConfigureTracing
@Import({
  RabbitOutboxTracingIntegrationTests.Spans.class,
  RabbitOutboxTracingIntegrationTests.Consumer.class
})
@DirtiesContext
class RabbitOutboxTracingIntegrationTests {

  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  static final String SCHEMA = TestPostgres.get().createSchema("rabbit_trace");

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry registry) {
    String url = TestPostgres.get().url();
    registry.add(
        "spring.datasource.url",
        () -> url + (url.contains("?") ? "&" : "?") + "currentSchema=" + SCHEMA);
    registry.add("spring.datasource.username", () -> TestPostgres.get().user());
    registry.add("spring.datasource.password", () -> TestPostgres.get().password());
    registry.add("outbox.table.schema", () -> SCHEMA);
    TestRabbit rabbit = TestRabbit.get();
    registry.add("spring.rabbitmq.host", rabbit::host);
    registry.add("spring.rabbitmq.port", rabbit::port);
    registry.add("spring.rabbitmq.username", rabbit::username);
    registry.add("spring.rabbitmq.password", rabbit::password);
  }

  @RegisterExtension
  static final CloseAfterClass services =
      CloseAfterClass.of(() -> TestPostgres.get().dropSchema(SCHEMA));

  @Autowired ShopService shop;
  @Autowired Tracer tracer;
  @Autowired FinishedSpans spans;
  @Autowired Consumer consumer;

  @Test
  void theConsumersSpanIsAChildOfTheRelaySendWhichIsAChildOfTheWriter() {
    String orderId = "order-" + UUID.randomUUID();
    Span writer = tracer.nextSpan().name("place-order").start();
    try (Tracer.SpanInScope scope = tracer.withSpan(writer)) {
      shop.placeOrder(orderId, 1);
    } finally {
      writer.end();
    }

    Received received =
        await()
            .atMost(TIMEOUT)
            .until(
                () ->
                    consumer.received.stream().filter(r -> orderId.equals(r.subject())).findFirst(),
                Optional::isPresent)
            .orElseThrow();
    MutableSpan relay =
        spans.await(
            s ->
                (ShopService.EXCHANGE + " publish").equals(s.name())
                    && orderId.equals(s.tag("outbox.event.key")),
            TIMEOUT);
    assertThat(relay.kind()).isEqualTo(brave.Span.Kind.PRODUCER);
    assertThat(relay.traceId()).isEqualTo(writer.context().traceId());
    assertThat(relay.parentId()).as("the writer's span").isEqualTo(writer.context().spanId());
    assertThat(received.traceparent())
        .as("the message carries the relay span's context")
        .isEqualTo("00-" + relay.traceId() + "-" + relay.id() + "-01");
    assertThat(received.traceId()).as("the consumer's trace").isEqualTo(relay.traceId());
    assertThat(received.parentId()).as("the consumer's parent").isEqualTo(relay.id());
  }

  /** Spans as Brave finishes them; Spring Boot's Brave set-up reports to every SpanHandler bean. */
  static final class FinishedSpans extends SpanHandler {
    private final List<MutableSpan> finished = new CopyOnWriteArrayList<>();

    @Override
    public boolean end(TraceContext context, MutableSpan span, Cause cause) {
      finished.add(span);
      return true;
    }

    MutableSpan await(Predicate<MutableSpan> match, Duration timeout) {
      // The relay span ends when the broker confirms, which may come just after the delivery.
      return org.awaitility.Awaitility.await()
          .atMost(timeout)
          .until(() -> finished.stream().filter(match).findFirst(), Optional::isPresent)
          .orElseThrow();
    }
  }

  @TestConfiguration
  static class Spans {
    @Bean
    FinishedSpans finishedSpans() {
      return new FinishedSpans();
    }
  }

  /** What the listener saw: the event's subject, its traceparent header and its own span. */
  record Received(String subject, String traceparent, String traceId, String parentId) {}

  @TestConfiguration
  static class Consumer {

    final List<Received> received = new CopyOnWriteArrayList<>();

    @Autowired Tracer tracer;

    @RabbitListener(
        bindings =
            @QueueBinding(
                value = @Queue,
                exchange = @Exchange(name = ShopService.EXCHANGE, type = "topic"),
                key = "#"))
    void onMessage(Message message) {
      Span current = tracer.currentSpan();
      received.add(
          new Received(
              String.valueOf(
                  message.getMessageProperties().getHeaders().get("cloudEvents_subject")),
              String.valueOf(message.getMessageProperties().getHeaders().get("traceparent")),
              current == null ? "no span" : current.context().traceId(),
              current == null ? "no span" : current.context().parentId()));
    }
  }
}
