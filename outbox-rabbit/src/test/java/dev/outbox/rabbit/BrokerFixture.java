package dev.outbox.rabbit;

import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import dev.outbox.test.TestRabbit;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;

/**
 * Test side of the real broker: declares uniquely named exchanges and queues with a plain AMQP
 * client, reads them back, and deletes everything it declared on {@link #close()}.
 */
final class BrokerFixture implements AutoCloseable {

  private final TestRabbit rabbit = TestRabbit.get();
  private final String virtualHost;
  private final com.rabbitmq.client.ConnectionFactory clientFactory;
  private Connection connection;
  private Channel channel;
  private final List<String> exchanges = new ArrayList<>();
  private final List<String> queues = new ArrayList<>();
  private final List<CachingConnectionFactory> factories = new ArrayList<>();

  BrokerFixture() {
    this("/");
  }

  BrokerFixture(String virtualHost) {
    this.virtualHost = virtualHost;
    this.clientFactory = rabbit.connectionFactory();
    clientFactory.setVirtualHost(virtualHost);
    reconnect();
  }

  private void reconnect() {
    try {
      connection = clientFactory.newConnection("outbox-test-reader");
      channel = connection.createChannel();
    } catch (IOException | TimeoutException ex) {
      throw new IllegalStateException("RabbitMQ does not answer: " + ex.getMessage(), ex);
    }
  }

  /**
   * A Spring connection factory for the broker with correlated confirms and returns, closed with
   * the fixture.
   */
  CachingConnectionFactory connectionFactory() {
    return connectionFactory(rabbit.host(), rabbit.port());
  }

  CachingConnectionFactory connectionFactory(String host, int port) {
    CachingConnectionFactory factory = new CachingConnectionFactory(host, port);
    factory.setUsername(rabbit.username());
    factory.setPassword(rabbit.password());
    factory.setVirtualHost(virtualHost);
    factory.setPublisherConfirmType(CachingConnectionFactory.ConfirmType.CORRELATED);
    factory.setPublisherReturns(true);
    factories.add(factory);
    return factory;
  }

  /** Declares a topic exchange with nothing bound to it: every publish to it is unroutable. */
  String unboundExchange(String prefix) {
    String exchange = TestRabbit.uniqueName(prefix);
    call(() -> channel().exchangeDeclare(exchange, "topic", true));
    exchanges.add(exchange);
    return exchange;
  }

  /** Declares a topic exchange named {@code exchange}, deleted with the fixture. */
  void declareExchange(String exchange) {
    call(() -> channel().exchangeDeclare(exchange, "topic", true));
    exchanges.add(exchange);
  }

  /** Declares a durable queue with a unique name. */
  String queue(String prefix) {
    return queue(prefix, Map.of());
  }

  String queue(String prefix, Map<String, Object> arguments) {
    String queue = TestRabbit.uniqueName(prefix);
    call(() -> channel().queueDeclare(queue, true, false, false, arguments));
    queues.add(queue);
    return queue;
  }

  /** Declares a topic exchange and a queue bound to it with {@code bindingKey}; returns both. */
  Route route(String prefix, String bindingKey) {
    String exchange = unboundExchange(prefix);
    String queue = queue(prefix);
    call(() -> channel().queueBind(queue, exchange, bindingKey));
    return new Route(exchange, queue);
  }

  record Route(String exchange, String queue) {}

  /** Binds {@code queue} to {@code exchange} with {@code #}. */
  void channelBind(String queue, String exchange) {
    call(() -> channel().queueBind(queue, exchange, "#"));
  }

  /** Messages in {@code queue} now. */
  long depth(String queue) {
    return call(() -> channel().queueDeclarePassive(queue).getMessageCount());
  }

  /** Takes {@code count} messages off {@code queue}, waiting up to {@code timeout} for them. */
  List<GetResponse> take(String queue, int count, Duration timeout) {
    List<GetResponse> taken = new ArrayList<>();
    await()
        .atMost(timeout)
        .pollInterval(Duration.ofMillis(20))
        .until(
            () -> {
              GetResponse response;
              while (taken.size() < count && (response = channel().basicGet(queue, true)) != null) {
                taken.add(response);
              }
              return taken.size() >= count;
            });
    return taken;
  }

  /** Takes every message in {@code queue} now. */
  List<GetResponse> drain(String queue) {
    List<GetResponse> taken = new ArrayList<>();
    GetResponse response;
    while ((response = call(() -> channel().basicGet(queue, true))) != null) {
      taken.add(response);
    }
    return taken;
  }

  /** The reader's channel, reopened if the broker closed it or its connection. */
  Channel channel() {
    if (!connection.isOpen()) {
      reconnect();
    } else if (!channel.isOpen()) {
      try {
        channel = connection.createChannel();
      } catch (IOException ex) {
        throw new IllegalStateException(ex.getMessage(), ex);
      }
    }
    return channel;
  }

  @Override
  public void close() {
    factories.forEach(CachingConnectionFactory::destroy);
    channel();
    try (Channel cleanup = connection.createChannel()) {
      for (String queue : queues) {
        cleanup.queueDelete(queue);
      }
      for (String exchange : exchanges) {
        cleanup.exchangeDelete(exchange);
      }
    } catch (IOException | TimeoutException ex) {
      throw new IllegalStateException("Could not delete test exchanges/queues", ex);
    } finally {
      try {
        connection.close();
      } catch (IOException | RuntimeException ignored) {
        // already closed
      }
    }
  }

  interface IoCall<T> {
    T call() throws IOException;
  }

  private static <T> T call(IoCall<T> call) {
    try {
      return call.call();
    } catch (IOException ex) {
      throw new IllegalStateException(ex.getMessage(), ex);
    }
  }
}
