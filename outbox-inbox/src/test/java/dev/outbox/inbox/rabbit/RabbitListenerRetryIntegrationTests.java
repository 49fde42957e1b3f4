package dev.outbox.inbox.rabbit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.inbox.MissingMessageIdException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.core.MessageProperties;
import org.springframework.amqp.rabbit.core.RabbitTemplate;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The listener retries of docs/consumers.md ("RabbitMQ retries"), as documented: Spring Boot's
 * stateless retry in the listener container, rejected messages not requeued, and a queue whose
 * rejected messages RabbitMQ moves to a dead-letter queue. Against the real RabbitMQ (a virtual
 * host of its own) and the real PostgreSQL (a schema of its own).
 *
 * <p>Each test waits for its message on the dead-letter queue: it gets there only after the last
 * attempt, so the attempts counted then are all there will be.
 */
@SpringBootTest(
    classes = RabbitConsumerApplication.class,
    properties = {
      "spring.jpa.hibernate.ddl-auto=create",
      "spring.jpa.open-in-view=false",
      "spring.rabbitmq.listener.simple.retry.enabled=true",
      "spring.rabbitmq.listener.simple.retry.max-retries="
          + RabbitListenerRetryIntegrationTests.RETRIES,
      "spring.rabbitmq.listener.simple.retry.initial-interval=50ms",
      "spring.rabbitmq.listener.simple.retry.multiplier=2",
      "spring.rabbitmq.listener.simple.default-requeue-rejected=false"
    })
@DirtiesContext
class RabbitListenerRetryIntegrationTests {

  static final int RETRIES = 4;

  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  static final RabbitConsumerServices SERVICES = RabbitConsumerServices.create("inbox-retry");

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry registry) {
    SERVICES.register(registry);
  }

  @RegisterExtension static final BeforeAllCallback services = SERVICES.dropAfterAll();

  @Autowired RabbitTemplate rabbit;
  @Autowired ReservationListener listener;
  @Autowired StockItemRepository stock;
  @Autowired ReservationRepository reservations;

  @AfterEach
  void resetHook() {
    listener.setHook(id -> {});
  }

  @Test
  void aMessageWithoutAnIdIsRejectedAtTheFirstAttemptAndDeadLettered() {
    String sku = newSku();
    long missingIdsBefore = missingIdFailures();

    send(null, sku + ":7");

    Message deadLetter = rabbit.receive(SERVICES.deadLetters(), TIMEOUT.toMillis());
    assertThat(deadLetter).as("the message on the dead-letter queue").isNotNull();
    assertThat(new String(deadLetter.getBody(), StandardCharsets.UTF_8)).isEqualTo(sku + ":7");
    assertThat(missingIdFailures() - missingIdsBefore).as("attempts").isOne();
    assertThat(reserved(sku)).isZero();
  }

  @Test
  void aMessageThatKeepsFailingIsTriedEveryTimeThenDeadLetteredWithItsIdAndNoInboxRow() {
    String sku = newSku();
    String id = UUID.randomUUID().toString();
    AtomicInteger attempts = new AtomicInteger();
    listener.setHook(
        messageId -> {
          if (messageId.equals(id)) {
            attempts.incrementAndGet();
            throw new IllegalStateException("stock service down");
          }
        });

    send(id, sku + ":3");

    Message deadLetter = rabbit.receive(SERVICES.deadLetters(), TIMEOUT.toMillis());
    assertThat(deadLetter).as("the message on the dead-letter queue").isNotNull();
    assertThat(deadLetter.getMessageProperties().getMessageId()).isEqualTo(id);
    assertThat(attempts).hasValue(1 + RETRIES);
    assertThat(reserved(sku)).isZero();
    assertThat(reservations.countByMessageId(id)).isZero();

    // Shovelled back, it is handled once: no inbox row was left by the failed attempts.
    listener.setHook(messageId -> {});
    send(id, sku + ":3");
    org.awaitility.Awaitility.await().atMost(TIMEOUT).until(() -> reserved(sku) == 3);
    assertThat(reservations.countByMessageId(id)).isOne();
  }

  private static long missingIdFailures() {
    return RabbitConsumerApplication.failures.stream()
        .filter(RabbitListenerRetryIntegrationTests::isMissingId)
        .count();
  }

  private static boolean isMissingId(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof MissingMessageIdException) {
        return true;
      }
    }
    return false;
  }

  private void send(@Nullable String messageId, String body) {
    MessageProperties properties = new MessageProperties();
    properties.setMessageId(messageId);
    if (messageId != null) {
      properties.setHeader("cloudEvents_id", messageId);
    }
    properties.setContentType("application/json");
    rabbit.send(
        "", SERVICES.single(), new Message(body.getBytes(StandardCharsets.UTF_8), properties));
  }

  private String newSku() {
    String sku = "sku-" + UUID.randomUUID();
    stock.save(new StockItem(sku));
    return sku;
  }

  private int reserved(String sku) {
    return stock.findById(sku).orElseThrow().getReserved();
  }
}
