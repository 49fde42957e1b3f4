package dev.outbox.examples.saga;

import dev.outbox.test.TestRabbit;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The broker a saga test runs over, as Spring Boot arguments for the demo and the services: nothing
 * for Kafka (the demo embeds its broker); for RabbitMQ, the test broker ({@link TestRabbit}) in a
 * virtual host of its own, deleted on close.
 */
final class TestBroker implements AutoCloseable {

  private final SagaTransport transport;
  private final @Nullable String virtualHost;
  private final List<String> arguments = new ArrayList<>();

  private TestBroker(SagaTransport transport) {
    this.transport = transport;
    if (transport == SagaTransport.RABBIT) {
      TestRabbit rabbit = TestRabbit.get();
      virtualHost = rabbit.createVirtualHost("saga-demo");
      arguments.add("--spring.rabbitmq.host=" + rabbit.host());
      arguments.add("--spring.rabbitmq.port=" + rabbit.port());
      arguments.add("--spring.rabbitmq.username=" + rabbit.username());
      arguments.add("--spring.rabbitmq.password=" + rabbit.password());
      arguments.add("--spring.rabbitmq.virtual-host=" + virtualHost);
    } else {
      virtualHost = null;
    }
  }

  static TestBroker of(SagaTransport transport) {
    return new TestBroker(transport);
  }

  /** The RabbitMQ virtual host of this test, or {@code null} for Kafka. */
  @Nullable String virtualHost() {
    return virtualHost;
  }

  /** What the broker calls the message id, as the demo prints it. */
  String idName() {
    return transport == SagaTransport.RABBIT ? "message_id" : "ce_id";
  }

  /** The broker's arguments followed by {@code more}. */
  String[] arguments(String... more) {
    List<String> all = new ArrayList<>(arguments);
    all.addAll(List.of(more));
    return all.toArray(String[]::new);
  }

  @Override
  public void close() {
    if (virtualHost != null) {
      TestRabbit.get().deleteVirtualHost(virtualHost);
    }
  }
}
