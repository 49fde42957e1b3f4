package dev.outbox.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.outbox.OutboxEvent;
import dev.outbox.spring.jdbcapp.JdbcTestApplication;
import dev.outbox.spring.jdbcapp.PaymentService;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.support.JdbcTransactionManager;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/** Writing events with plain JDBC ({@code DataSourceTransactionManager}, JdbcClient). */
@SpringBootTest(classes = JdbcTestApplication.class)
class PublishEventJdbcIntegrationTests {

  static final String SCHEMA = JdbcTestApplication.createSchema("jdbc");

  @DynamicPropertySource
  static void database(DynamicPropertyRegistry registry) {
    PostgresSchemas.register(registry, SCHEMA);
  }

  @Autowired PaymentService payments;
  @Autowired RecordingTransport transport;
  @Autowired JdbcClient jdbc;
  @Autowired PlatformTransactionManager transactionManager;

  private List<OutboxEvent> sentWithKey(String key) {
    return transport.sent().stream().filter(e -> key.equals(e.key())).toList();
  }

  @Test
  void usesTheJdbcTransactionManager() {
    assertThat(transactionManager).isInstanceOf(JdbcTransactionManager.class);
  }

  @Test
  void commitPublishesTheEventOfTheJdbcTransaction() {
    payments.capture("pay-1", 1299, false);

    await().atMost(Duration.ofSeconds(10)).until(() -> sentWithKey("pay-1").size() == 1);
    assertThat(sentWithKey("pay-1").get(0).payload())
        .isEqualTo("{\"paymentId\":\"pay-1\",\"cents\":1299}");
    assertThat(sentWithKey("pay-1").get(0).type()).isEqualTo("PaymentCaptured");
  }

  @Test
  void rollbackOfTheJdbcTransactionLeavesNoEvent() {
    assertThatThrownBy(() -> payments.capture("pay-2", 500, true)).hasMessage("card expired");
    payments.capture("pay-2-after", 1, false);

    await().atMost(Duration.ofSeconds(10)).until(() -> sentWithKey("pay-2-after").size() == 1);
    assertThat(sentWithKey("pay-2")).isEmpty();
    assertThat(
            jdbc.sql("SELECT count(*) FROM " + SCHEMA + ".payment WHERE id = 'pay-2'")
                .query(Long.class)
                .single())
        .isZero();
  }

  /**
   * Spring's transaction advisor runs outside the {@code @PublishEvent} advisor, so the event is
   * written in the transaction {@code @Transactional} starts for the method, with the method's
   * writes. Here that is a new one inside the caller's, which rolls back. With the advisors the
   * other way round, the event would join the caller's transaction and roll back with it, while the
   * payment committed in the method's.
   */
  @Test
  void theEventIsWrittenInTheTransactionTransactionalStartsForTheMethod() {
    new TransactionTemplate(transactionManager)
        .executeWithoutResult(
            caller -> {
              payments.captureOnItsOwn("pay-3", 700);
              caller.setRollbackOnly();
            });

    await("the event, committed with the payment in the method's transaction")
        .atMost(Duration.ofSeconds(10))
        .until(() -> sentWithKey("pay-3").size() == 1);
    assertThat(
            jdbc.sql("SELECT count(*) FROM " + SCHEMA + ".payment WHERE id = 'pay-3'")
                .query(Long.class)
                .single())
        .isOne();
  }
}
