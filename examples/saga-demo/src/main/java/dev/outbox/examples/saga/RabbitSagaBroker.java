package dev.outbox.examples.saga;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeoutException;
import org.springframework.core.env.SimpleCommandLinePropertySource;
import org.springframework.core.env.StandardEnvironment;

/**
 * RabbitMQ: a broker that runs already, not embedded, reached with Spring Boot's {@code
 * spring.rabbitmq.host}, {@code port}, {@code username}, {@code password} and {@code virtual-host}
 * (arguments or environment; Boot's defaults otherwise). The services run with their {@code rabbit}
 * profile and queues named for this run ({@code inventory-service.orders.saga-demo-…}), so that a
 * run never sees the messages of an earlier one; the queues are deleted when the run ends, and
 * expire on the broker ({@code x-expires}) if it is killed before.
 */
final class RabbitSagaBroker implements SagaBroker {

  /** How long the run's queues outlive their last consumer if the run cannot delete them. */
  static final Duration QUEUE_EXPIRY = Duration.ofMinutes(10);

  private final String host;
  private final int port;
  private final String username;
  private final String password;
  private final String virtualHost;
  private final String inventoryQueue;
  private final String orderQueue;

  /**
   * @param arguments Spring Boot arguments that may set {@code spring.rabbitmq.*}
   */
  RabbitSagaBroker(String... arguments) {
    StandardEnvironment environment = new StandardEnvironment();
    environment.getPropertySources().addFirst(new SimpleCommandLinePropertySource(arguments));
    host = environment.getProperty("spring.rabbitmq.host", "localhost");
    port = environment.getProperty("spring.rabbitmq.port", Integer.class, 5672);
    username = environment.getProperty("spring.rabbitmq.username", "guest");
    password = environment.getProperty("spring.rabbitmq.password", "guest");
    virtualHost = environment.getProperty("spring.rabbitmq.virtual-host", "/");
    String run = "saga-demo-" + UUID.randomUUID().toString().substring(0, 8);
    inventoryQueue = "inventory-service.orders." + run;
    orderQueue = "order-service.stock." + run;
  }

  @Override
  public String name() {
    return "rabbitmq";
  }

  @Override
  public String idName() {
    return "message_id";
  }

  @Override
  public String destinations() {
    return "the exchanges orders and stock";
  }

  @Override
  public String description() {
    return String.format(
        "Using RabbitMQ at %s:%d, virtual host %s (not embedded); this run's queues: %s, %s",
        host, port, virtualHost, inventoryQueue, orderQueue);
  }

  @Override
  public List<String> serviceArguments() {
    long expiry = QUEUE_EXPIRY.toMillis();
    return List.of(
        "--spring.profiles.active=rabbit",
        "--spring.rabbitmq.host=" + host,
        "--spring.rabbitmq.port=" + port,
        "--spring.rabbitmq.username=" + username,
        "--spring.rabbitmq.password=" + password,
        "--spring.rabbitmq.virtual-host=" + virtualHost,
        "--inventory-service.rabbit.queue=" + inventoryQueue,
        "--inventory-service.rabbit.queue-expires-ms=" + expiry,
        "--order-service.rabbit.queue=" + orderQueue,
        "--order-service.rabbit.queue-expires-ms=" + expiry);
  }

  /**
   * Whether both services' queues exist and have a consumer: RabbitMQ drops a message that no queue
   * is bound for yet (the outbox notices only if no queue at all took it, and the duplicate
   * injector's queue always does).
   */
  @Override
  public boolean servicesConsuming() {
    try (Connection connection = connectionFactory().newConnection("saga-demo-check")) {
      for (String queue : List.of(inventoryQueue, orderQueue)) {
        Channel channel = connection.createChannel();
        try {
          if (channel.queueDeclarePassive(queue).getConsumerCount() == 0) {
            return false;
          }
        } catch (IOException ex) {
          return false; // 404: not declared yet; the broker closed the channel
        }
      }
      return true;
    } catch (IOException | TimeoutException ex) {
      return false;
    }
  }

  @Override
  public DuplicateInjector injectDuplicates(SagaTrace trace) {
    try {
      return new RabbitDuplicateInjector(connectionFactory(), List.of("orders", "stock"), trace);
    } catch (IOException | TimeoutException ex) {
      throw new IllegalStateException(
          "Could not connect the duplicate injector to RabbitMQ at " + host + ":" + port, ex);
    }
  }

  /** The queue the inventory service reads {@code OrderPlaced} from in this run. */
  String inventoryQueue() {
    return inventoryQueue;
  }

  /** The queue the order service reads the inventory's replies from in this run. */
  String orderQueue() {
    return orderQueue;
  }

  /** Deletes this run's queues and their dead-letter queues. */
  @Override
  public void close() {
    try (Connection connection = connectionFactory().newConnection("saga-demo-cleanup");
        Channel channel = connection.createChannel()) {
      for (String queue : List.of(inventoryQueue, orderQueue)) {
        channel.queueDelete(queue);
        channel.queueDelete(queue + ".dlq");
      }
    } catch (IOException | TimeoutException ex) {
      System.err.printf(
          "Could not delete this run's queues (they expire after %s unused): %s%n",
          QUEUE_EXPIRY, ex);
    }
  }

  private ConnectionFactory connectionFactory() {
    ConnectionFactory factory = new ConnectionFactory();
    factory.setHost(host);
    factory.setPort(port);
    factory.setUsername(username);
    factory.setPassword(password);
    factory.setVirtualHost(virtualHost);
    factory.setAutomaticRecoveryEnabled(false);
    return factory;
  }
}
