package dev.outbox.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.OutboxEvent;
import dev.outbox.relay.OutboxRelay;
import dev.outbox.relay.RelayListener;
import dev.outbox.spring.jdbcapp.JdbcTestApplication;
import dev.outbox.spring.jdbcapp.PaymentService;
import dev.outbox.test.TestThreads;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * A service whose connection pool is set up as some teams set theirs: transactions at serializable
 * and auto-commit off on every pooled connection (Hikari's {@code transaction-isolation} and {@code
 * auto-commit}). The relay shares that pool with the application: its own statements run at read
 * committed, so none of its cycles fails while the application writes, every event is published
 * once, and the application's transactions still run at serializable.
 */
@SpringBootTest(
    classes = {JdbcTestApplication.class, PoolSettingsIntegrationTests.CycleFailures.class},
    properties = {
      "spring.datasource.hikari.transaction-isolation=TRANSACTION_SERIALIZABLE",
      "spring.datasource.hikari.auto-commit=false",
      "spring.datasource.hikari.maximum-pool-size=8"
    })
class PoolSettingsIntegrationTests {

  static final String SCHEMA = JdbcTestApplication.createSchema("pool");

  @DynamicPropertySource
  static void database(DynamicPropertyRegistry registry) {
    PostgresSchemas.register(registry, SCHEMA);
  }

  /** Collects the relay's failed cycles. */
  @TestConfiguration(proxyBeanMethods = false)
  static class CycleFailures {

    final List<String> failures = new CopyOnWriteArrayList<>();

    @Bean
    RelayListener cycleFailures() {
      return new RelayListener() {
        @Override
        public void cycleFailed(Throwable failure) {
          failures.add(failure.toString());
        }
      };
    }
  }

  @Autowired PaymentService payments;
  @Autowired RecordingTransport transport;
  @Autowired JdbcClient jdbc;
  @Autowired TransactionTemplate transactions;
  @Autowired OutboxRelay relay;
  @Autowired CycleFailures cycles;

  @Test
  void concurrentSerializableWritersEachEventPublishedOnceNoRelayCycleFailsIsolationKept()
      throws Exception {
    int writers = 6;
    int perWriter = 200;
    TestThreads.allAtOnce(
        writers,
        writer -> {
          for (int i = 0; i < perWriter; i++) {
            payments.capture("pay-" + writer + "-" + i, i, false);
          }
          return null;
        },
        Duration.ofMinutes(2));

    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                jdbc.sql("SELECT count(*) FROM " + SCHEMA + ".outbox_event")
                        .query(Long.class)
                        .single()
                    == 0);
    List<String> expected =
        IntStream.range(0, writers)
            .boxed()
            .flatMap(w -> IntStream.range(0, perWriter).mapToObj(i -> "pay-" + w + "-" + i))
            .toList();
    assertThat(transport.sent())
        .extracting(OutboxEvent::key)
        .containsExactlyInAnyOrderElementsOf(expected);
    assertThat(cycles.failures).isEmpty();
    assertThat(relay.isHealthy()).isTrue();
    // Hikari sets the pool's isolation back itself; StoreConnectionsIntegrationTests shows the
    // library doing so for a pool that does not
    String isolation =
        transactions.execute(
            status -> jdbc.sql("SHOW transaction_isolation").query(String.class).single());
    assertThat(isolation)
        .as("the application's transactions, after the relay used the pool")
        .isEqualTo("serializable");
  }
}
