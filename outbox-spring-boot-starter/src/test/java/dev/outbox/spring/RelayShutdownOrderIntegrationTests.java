package dev.outbox.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.PublishEvent;
import dev.outbox.relay.OutboxRelay;
import dev.outbox.test.TestPostgres;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * The relay stops after the web server: a request still in flight when the application is asked to
 * stop (Spring Boot's graceful shutdown lets it finish) commits its event while the relay runs, so
 * this instance publishes it instead of leaving it for another instance or the next start.
 */
class RelayShutdownOrderIntegrationTests {

  /** How long the server may take to drain at shutdown (the property set below). */
  private static final Duration SHUTDOWN_PHASE_TIMEOUT = Duration.ofSeconds(30);

  private final String schema = TestPostgres.get().createSchema("shutdown");
  private ConfigurableApplicationContext context;

  @AfterEach
  void stop() {
    if (context != null) {
      context.close();
    }
    TestPostgres.get().dropSchema(schema);
  }

  @Test
  void theRelayStopsBelowTheWebServersPhases() {
    assertThat(OutboxRelayLifecycle.PHASE)
        .isLessThan(WebServerApplicationContext.START_STOP_LIFECYCLE_PHASE)
        .isLessThan(WebServerApplicationContext.GRACEFUL_SHUTDOWN_PHASE);
  }

  @Test
  void aRequestInFlightAtShutdownCommitsItsEventWhileTheRelayRuns() throws Exception {
    context =
        new SpringApplicationBuilder(SlowOrders.class)
            .properties(
                "server.port=0",
                "server.shutdown=graceful",
                "spring.lifecycle.timeout-per-shutdown-phase="
                    + SHUTDOWN_PHASE_TIMEOUT.toSeconds()
                    + "s",
                "spring.datasource.url=" + PostgresSchemas.urlFor(schema),
                "spring.datasource.username=" + TestPostgres.get().user(),
                "spring.datasource.password=" + TestPostgres.get().password(),
                "outbox.table.schema=" + schema)
            .run();
    int port = Integer.parseInt(context.getEnvironment().getProperty("local.server.port"));
    Gate gate = context.getBean(Gate.class);
    OutboxRelay relay = context.getBean(OutboxRelay.class);
    await().atMost(Duration.ofSeconds(30)).until(relay::isRunning);

    CompletableFuture<HttpResponse<String>> response =
        HttpClient.newHttpClient()
            .sendAsync(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/orders/in-flight"))
                    .POST(HttpRequest.BodyPublishers.noBody())
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(gate.entered.await(SHUTDOWN_PHASE_TIMEOUT.toSeconds(), TimeUnit.SECONDS))
        .as("the request reached the controller")
        .isTrue();

    Thread closing = new Thread(context::close, "closing-the-context");
    closing.start();
    // The request goes on once the server drains (it takes no more connections) or, were the
    // relay to stop first, once it has stopped
    await()
        .atMost(SHUTDOWN_PHASE_TIMEOUT)
        .until(() -> !relay.isRunning() || refusesConnections(port));
    gate.release.countDown();

    assertThat(response.get(SHUTDOWN_PHASE_TIMEOUT.toSeconds(), TimeUnit.SECONDS).statusCode())
        .isEqualTo(200);
    closing.join(SHUTDOWN_PHASE_TIMEOUT.multipliedBy(2).toMillis());
    assertThat(closing.isAlive()).as("the context closed").isFalse();
    assertThat(gate.relayRunningAtCommit).as("the relay ran when the request committed").isTrue();
  }

  private static boolean refusesConnections(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      return false;
    } catch (IOException refused) {
      return true;
    }
  }

  /** Holds a request until the test lets it go, and records whether the relay ran at its commit. */
  static final class Gate {
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    volatile Boolean relayRunningAtCommit;
  }

  record OrderPlaced(String orderId) {}

  /** A web application whose orders endpoint waits at the gate, then publishes an event. */
  @SpringBootConfiguration(proxyBeanMethods = false)
  @EnableAutoConfiguration
  static class SlowOrders {

    @Bean
    Gate gate() {
      return new Gate();
    }

    @Bean
    RecordingTransport recordingTransport() {
      return new RecordingTransport();
    }

    @Bean
    Orders orders(Gate gate, OutboxRelay relay) {
      return new Orders(gate, relay);
    }

    @Bean
    OrderController orderController(Gate gate, Orders orders) {
      return new OrderController(gate, orders);
    }
  }

  static class Orders {
    private final Gate gate;
    private final OutboxRelay relay;

    Orders(Gate gate, OutboxRelay relay) {
      this.gate = gate;
      this.relay = relay;
    }

    @PublishEvent(destination = "orders", key = "#orderId")
    public OrderPlaced place(String orderId) {
      TransactionSynchronizationManager.registerSynchronization(
          new TransactionSynchronization() {
            @Override
            public void afterCommit() {
              gate.relayRunningAtCommit = relay.isRunning();
            }
          });
      return new OrderPlaced(orderId);
    }
  }

  @RestController
  static class OrderController {
    private final Gate gate;
    private final Orders orders;

    OrderController(Gate gate, Orders orders) {
      this.gate = gate;
      this.orders = orders;
    }

    @PostMapping("/orders/{id}")
    String place(@PathVariable String id) throws InterruptedException {
      gate.entered.countDown();
      if (!gate.release.await(SHUTDOWN_PHASE_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        throw new IllegalStateException("the test never released the request");
      }
      return orders.place(id).orderId();
    }
  }
}
