package dev.outbox.inbox.rabbit;

import dev.outbox.test.TestPostgres;
import dev.outbox.test.TestRabbit;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.springframework.test.context.DynamicPropertyRegistry;

/**
 * The services of a test of {@link RabbitConsumerApplication}: a PostgreSQL schema and a RabbitMQ
 * virtual host of its own, and the names of the application's queues (all starting with {@code
 * prefix}); the single queue's rejected messages go to {@link #deadLetters()}.
 */
record RabbitConsumerServices(String schema, String virtualHost, String prefix) {

  static RabbitConsumerServices create(String name) {
    return new RabbitConsumerServices(
        TestPostgres.get().createSchema(name.replace('-', '_')),
        TestRabbit.get().createVirtualHost(name),
        TestRabbit.uniqueName(name));
  }

  String single() {
    return prefix + "-single";
  }

  String deadLetters() {
    return prefix + "-single-dlq";
  }

  String pair() {
    return prefix + "-pair";
  }

  String manualPrefetchOne() {
    return prefix + "-manual-prefetch-one";
  }

  String manual() {
    return prefix + "-manual";
  }

  /** Points the application at the schema, the virtual host and the queues. */
  void register(DynamicPropertyRegistry registry) {
    String url = TestPostgres.get().url();
    registry.add(
        "spring.datasource.url",
        () -> url + (url.contains("?") ? "&" : "?") + "currentSchema=" + schema);
    registry.add("spring.datasource.username", () -> TestPostgres.get().user());
    registry.add("spring.datasource.password", () -> TestPostgres.get().password());
    registry.add("outbox.table.schema", () -> schema);
    registry.add("outbox.inbox.table.schema", () -> schema);
    TestRabbit rabbit = TestRabbit.get();
    registry.add("spring.rabbitmq.host", rabbit::host);
    registry.add("spring.rabbitmq.port", rabbit::port);
    registry.add("spring.rabbitmq.username", rabbit::username);
    registry.add("spring.rabbitmq.password", rabbit::password);
    registry.add("spring.rabbitmq.virtual-host", () -> virtualHost);
    registry.add("inbox-test.single-queue", this::single);
    registry.add("inbox-test.single-dead-letter-queue", this::deadLetters);
    registry.add("inbox-test.pair-exchange", this::pair);
    registry.add("inbox-test.queue-a", () -> pair() + "-a");
    registry.add("inbox-test.queue-b", () -> pair() + "-b");
    registry.add("inbox-test.manual-prefetch-one-queue", this::manualPrefetchOne);
    registry.add("inbox-test.manual-queue", this::manual);
  }

  /** An extension that drops the virtual host and the schema after Spring closed the context. */
  BeforeAllCallback dropAfterAll() {
    return context ->
        context
            .getStore(ExtensionContext.Namespace.create(getClass(), prefix))
            .put(
                "services",
                (AutoCloseable)
                    () -> {
                      try {
                        TestRabbit.get().deleteVirtualHost(virtualHost);
                      } finally {
                        TestPostgres.get().dropSchema(schema);
                      }
                    });
  }
}
