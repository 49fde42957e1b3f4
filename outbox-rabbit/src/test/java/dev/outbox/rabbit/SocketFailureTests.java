package dev.outbox.rabbit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConfirmListener;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ShutdownListener;
import com.rabbitmq.client.ShutdownSignalException;
import dev.outbox.transport.Failures;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.SocketException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;

/**
 * A publish whose socket write fails (reset, broken pipe) before the client has noticed the dead
 * connection: the transport must treat it as the connection's failure, never the event's. The
 * client library's connection and channels are stand-ins here, because the moment a write meets a
 * socket the client still counts as open cannot be produced on demand against a real broker ({@code
 * RabbitOutboxRelayIntegrationTests} meets it by chance when it cuts connections).
 */
class SocketFailureTests {

  private static final long TIMEOUT_SECONDS = 10;

  @Test
  void aWriteTheSocketFailsIsSentAgainOnANewConnection() throws Exception {
    FakeBroker broker = new FakeBroker(1); // the first connection's socket is broken
    try (RabbitOutboxTransport transport =
        new RabbitOutboxTransport(broker.factory(), RabbitOutboxOptions.defaults())) {
      CompletableFuture<?> sent = transport.send(RabbitDestinationTests.event("orders", "order-1"));

      assertThat(broker.connections).hasSize(2);
      assertThat(broker.connections.get(0).aborted).as("the broken connection is dropped").isTrue();
      FakeConnection second = broker.connections.get(1);
      assertThat(second.published).hasValue(1);
      assertThat(sent).isNotDone();

      second.confirmAll();
      sent.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }
  }

  /**
   * Input: every connection's socket fails writes. Error: unavailable, so no attempt is charged.
   */
  @Test
  void writesEverySocketFailsFailAsUnavailableNotAsTheEventsFault() {
    FakeBroker broker = new FakeBroker(Integer.MAX_VALUE);
    try (RabbitOutboxTransport transport =
        new RabbitOutboxTransport(broker.factory(), RabbitOutboxOptions.defaults())) {
      CompletableFuture<?> sent = transport.send(RabbitDestinationTests.event("orders", "order-1"));

      Throwable failure =
          Failures.unwrap(catchThrowable(() -> sent.get(TIMEOUT_SECONDS, TimeUnit.SECONDS)));
      assertThat(failure)
          .isInstanceOf(RabbitUnavailableException.class)
          .hasMessage(
              "The connection to RabbitMQ failed while publishing to exchange 'orders' with routing"
                  + " key 'OrderPlaced': SocketException: Broken pipe");
      assertThat(transport.isBrokerUnavailable(failure)).isTrue();
      assertThat(broker.connections).allSatisfy(c -> assertThat(c.aborted).isTrue());
    }
  }

  /** Hands out connections; the first {@code broken} of them fail every write. */
  private static final class FakeBroker {
    final int broken;
    final List<FakeConnection> connections = new CopyOnWriteArrayList<>();

    FakeBroker(int broken) {
      this.broken = broken;
    }

    ConnectionFactory factory() {
      return proxy(
          ConnectionFactory.class,
          (self, method, args) ->
              switch (method.getName()) {
                case "createConnection" -> {
                  FakeConnection connection = new FakeConnection(connections.size() < broken);
                  connections.add(connection);
                  yield proxy(
                      org.springframework.amqp.rabbit.connection.Connection.class,
                      (c, m, a) -> m.getName().equals("getDelegate") ? connection.proxy : null);
                }
                case "getHost" -> "fake";
                case "getPort" -> 5672;
                default -> null;
              });
    }
  }

  /** A connection whose channels accept writes, or fail them as a reset socket does. */
  private static final class FakeConnection {
    final boolean broken;
    final Connection proxy;
    final AtomicLong published = new AtomicLong();
    final List<ShutdownListener> shutdownListeners = new CopyOnWriteArrayList<>();
    final List<ConfirmListener> confirmListeners = new CopyOnWriteArrayList<>();
    volatile boolean aborted;

    FakeConnection(boolean broken) {
      this.broken = broken;
      this.proxy =
          proxy(
              Connection.class,
              (self, method, args) ->
                  switch (method.getName()) {
                    case "createChannel" -> channel();
                    case "isOpen" -> !aborted;
                    case "abort" -> {
                      abort();
                      yield null;
                    }
                    default -> defaultValue(method.getReturnType());
                  });
    }

    private void abort() {
      if (aborted) {
        return;
      }
      aborted = true;
      ShutdownSignalException signal = new ShutdownSignalException(true, true, null, proxy);
      shutdownListeners.forEach(listener -> listener.shutdownCompleted(signal));
    }

    void confirmAll() throws Exception {
      for (ConfirmListener listener : confirmListeners) {
        listener.handleAck(published.get(), true);
      }
    }

    private Channel channel() {
      AtomicLong sequence = new AtomicLong(1);
      return proxy(
          Channel.class,
          (self, method, args) ->
              switch (method.getName()) {
                case "basicPublish" -> {
                  if (broken) {
                    throw new SocketException("Broken pipe");
                  }
                  published.incrementAndGet();
                  sequence.incrementAndGet();
                  yield null;
                }
                case "getNextPublishSeqNo" -> sequence.get();
                case "isOpen" -> !aborted;
                case "getConnection" -> proxy;
                case "addShutdownListener" -> {
                  shutdownListeners.add((ShutdownListener) args[0]);
                  yield null;
                }
                case "addConfirmListener" -> {
                  if (args[0] instanceof ConfirmListener listener) {
                    confirmListeners.add(listener);
                  }
                  yield null;
                }
                default -> defaultValue(method.getReturnType());
              });
    }
  }

  private static Object defaultValue(Class<?> type) {
    if (type == boolean.class) {
      return false;
    }
    if (type == int.class) {
      return 0;
    }
    if (type == long.class) {
      return 0L;
    }
    return null;
  }

  @SuppressWarnings("unchecked")
  private static <T> T proxy(Class<T> type, InvocationHandler handler) {
    InvocationHandler checked =
        (self, method, args) -> {
          if (method.getDeclaringClass() == Object.class) {
            return switch (method.getName()) {
              case "hashCode" -> System.identityHashCode(self);
              case "equals" -> self == args[0];
              default -> type.getSimpleName() + " stand-in";
            };
          }
          try {
            return handler.invoke(self, method, args);
          } catch (InvocationTargetException ex) {
            throw ex.getCause();
          }
        };
    return (T)
        Proxy.newProxyInstance(
            SocketFailureTests.class.getClassLoader(), new Class<?>[] {type}, checked);
  }
}
