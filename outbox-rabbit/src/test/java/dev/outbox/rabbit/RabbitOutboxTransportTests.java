package dev.outbox.rabbit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.outbox.EventIds;
import dev.outbox.OutboxEvent;
import dev.outbox.test.TestPorts;
import dev.outbox.transport.Failures;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;

/** The transport without a broker to talk to. */
class RabbitOutboxTransportTests {

  @Test
  void sendsFailAsUnavailableWhileTheBrokerCannotBeReached() throws Exception {
    CachingConnectionFactory factory =
        new CachingConnectionFactory("127.0.0.1", TestPorts.unused());
    factory.setPublisherConfirmType(CachingConnectionFactory.ConfirmType.CORRELATED);
    factory.setPublisherReturns(true);
    try (RabbitOutboxTransport transport =
        new RabbitOutboxTransport(factory, RabbitOutboxOptions.defaults())) {
      List<CompletableFuture<?>> sends = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        sends.add(
            transport.send(
                new OutboxEvent(
                    EventIds.next(),
                    i,
                    "orders",
                    "order-" + i,
                    null,
                    "OrderPlaced",
                    1,
                    "{}",
                    Map.of(),
                    Instant.now(),
                    0)));
      }

      for (CompletableFuture<?> send : sends) {
        Throwable failure = Failures.unwrap(catchThrowable(() -> send.get(10, TimeUnit.SECONDS)));
        assertThat(failure)
            .isInstanceOf(RabbitUnavailableException.class)
            .hasMessageContaining("RabbitMQ")
            .hasRootCauseInstanceOf(java.net.ConnectException.class);
        assertThat(transport.isBrokerUnavailable(failure)).isTrue();
      }
    } finally {
      factory.destroy();
    }
  }
}
