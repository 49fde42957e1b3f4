package dev.outbox.inbox.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.OutboxException;
import dev.outbox.inbox.MissingMessageIdException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.AmqpRejectAndDontRequeueException;
import org.springframework.amqp.core.MessageProperties;
import org.springframework.messaging.handler.annotation.Header;
import org.springframework.messaging.support.MessageBuilder;

/** Which parameter carries the id, and the errors when none does or the message lacks it. */
class MessageIdResolverTests {

  @SuppressWarnings("unused")
  static class Listeners {
    public void record(String ignored, ConsumerRecord<String, String> record) {}

    public void amqp(org.springframework.amqp.core.Message message) {}

    public void messaging(org.springframework.messaging.Message<String> message) {}

    public void header(String payload, @Header("ce_id") byte[] id) {}

    public void amqpHeader(String payload, @Header("amqp_messageId") String id) {}

    public void otherHeader(String payload, @Header("kafka_receivedTopic") String topic) {}

    public void batch(List<ConsumerRecord<String, String>> records) {}
  }

  private static MessageIdResolver resolver(String name) {
    for (Method method : Listeners.class.getMethods()) {
      if (method.getName().equals(name)) {
        return MessageIdResolver.forMethod(method);
      }
    }
    throw new IllegalArgumentException(name);
  }

  @Test
  void kafkaRecordCarriesTheIdInTheCeIdHeader() {
    ConsumerRecord<String, String> record = new ConsumerRecord<>("orders", 2, 41L, "k", "v");
    record.headers().add("ce_id", "0193a0c4-id".getBytes(StandardCharsets.UTF_8));

    assertThat(resolver("record").resolve(new Object[] {"v", record})).isEqualTo("0193a0c4-id");
  }

  @Test
  void kafkaRecordWithoutTheHeaderNamesIt() {
    ConsumerRecord<String, String> record = new ConsumerRecord<>("orders", 2, 41L, "k", "v");

    assertThatThrownBy(() -> resolver("record").resolve(new Object[] {"v", record}))
        .isInstanceOf(MissingMessageIdException.class)
        .hasMessage(
            "Kafka record orders-2@41 has no ce_id header: the idempotent listener cannot"
                + " de-duplicate it");
  }

  @Test
  void amqpMessagePrefersTheMessageIdProperty() {
    MessageProperties properties = new MessageProperties();
    properties.setMessageId("from-property");
    properties.setHeader("cloudEvents_id", "from-header");

    assertThat(resolver("amqp").resolve(new Object[] {amqp(properties)}))
        .isEqualTo("from-property");
  }

  @Test
  void amqpMessageFallsBackToEitherCloudEventsIdSpelling() {
    MessageProperties underscore = new MessageProperties();
    underscore.setHeader("cloudEvents_id", "underscore");
    MessageProperties colon = new MessageProperties();
    colon.setHeader("cloudEvents:id", "colon");

    assertThat(resolver("amqp").resolve(new Object[] {amqp(underscore)})).isEqualTo("underscore");
    assertThat(resolver("amqp").resolve(new Object[] {amqp(colon)})).isEqualTo("colon");
  }

  @Test
  void messagingMessageReadsTheKnownHeaders() {
    var kafka = MessageBuilder.withPayload("v").setHeader("ce_id", "k-id".getBytes()).build();
    var amqp = MessageBuilder.withPayload("v").setHeader("amqp_messageId", "a-id").build();
    var none = MessageBuilder.withPayload("v").build();

    assertThat(resolver("messaging").resolve(new Object[] {kafka})).isEqualTo("k-id");
    assertThat(resolver("messaging").resolve(new Object[] {amqp})).isEqualTo("a-id");
    assertThatThrownBy(() -> resolver("messaging").resolve(new Object[] {none}))
        .isInstanceOf(MissingMessageIdException.class)
        .hasMessage(
            "Message has none of the headers [ce_id, amqp_messageId, cloudEvents_id,"
                + " cloudEvents:id]: the idempotent listener cannot de-duplicate it");
  }

  /** Input: a RabbitMQ message with an application header {@code ce_id}, the Kafka id's name. */
  @Test
  void messagingMessageFromRabbitReadsTheAmqpIdNotACeIdHeader() {
    var fromRabbit =
        MessageBuilder.withPayload("v")
            .setHeader("amqp_consumerQueue", "orders")
            .setHeader("ce_id", "forged")
            .setHeader("amqp_messageId", "a-id")
            .build();

    assertThat(resolver("messaging").resolve(new Object[] {fromRabbit})).isEqualTo("a-id");
  }

  @Test
  void headerParameterCarriesTheId() {
    UUID id = UUID.randomUUID();

    assertThat(
            resolver("header")
                .resolve(new Object[] {"v", id.toString().getBytes(StandardCharsets.UTF_8)}))
        .isEqualTo(id.toString());
    assertThatThrownBy(() -> resolver("header").resolve(new Object[] {"v", null}))
        .isInstanceOf(MissingMessageIdException.class)
        .hasMessage(
            "The message has no ce_id header: the idempotent listener cannot de-duplicate it");
  }

  /**
   * A RabbitMQ message without an id fails with a cause that makes Spring AMQP's container reject
   * it without requeueing it, whichever parameter was to carry the id.
   */
  @Test
  void aRabbitMessageWithoutAnIdIsRejectedWithoutRequeue() {
    var fromQueue = MessageBuilder.withPayload("v").setHeader("amqp_consumerQueue", "q").build();

    assertRejectedWithoutRequeue(
        () -> resolver("amqp").resolve(new Object[] {amqp(new MessageProperties())}));
    assertRejectedWithoutRequeue(() -> resolver("messaging").resolve(new Object[] {fromQueue}));
    assertRejectedWithoutRequeue(() -> resolver("amqpHeader").resolve(new Object[] {"v", null}));
    assertRejectedWithoutRequeue(() -> resolver("amqpHeader").resolve(new Object[] {"v", " "}));
  }

  /**
   * Any other message without an id fails without that cause: Kafka's error handler decides, and a
   * listener called without a message is not a delivery to reject.
   */
  @Test
  void anyOtherMessageWithoutAnIdFailsWithoutARejection() {
    ConsumerRecord<String, String> record = new ConsumerRecord<>("orders", 2, 41L, "k", "v");
    var fromKafka = MessageBuilder.withPayload("v").setHeader("kafka_offset", 41L).build();

    assertNotRejected(() -> resolver("record").resolve(new Object[] {"v", record}));
    assertNotRejected(() -> resolver("messaging").resolve(new Object[] {fromKafka}));
    assertNotRejected(() -> resolver("header").resolve(new Object[] {"v", null}));
    assertNotRejected(() -> resolver("header").resolve(new Object[] {"v", new byte[0]}));
    assertNotRejected(() -> resolver("amqp").resolve(new Object[] {null}));
    assertNotRejected(() -> resolver("messaging").resolve(new Object[] {null}));
  }

  @Test
  void methodsWithoutAnIdParameterAreRejected() {
    for (String name : List.of("otherHeader", "batch")) {
      assertThatThrownBy(() -> resolver(name))
          .isInstanceOf(OutboxException.class)
          .hasMessageContaining("has no parameter carrying the message id");
    }
  }

  private static void assertRejectedWithoutRequeue(ThrowingCallable resolve) {
    assertThatThrownBy(resolve)
        .isInstanceOf(MissingMessageIdException.class)
        .cause()
        .isInstanceOf(AmqpRejectAndDontRequeueException.class);
  }

  private static void assertNotRejected(ThrowingCallable resolve) {
    assertThatThrownBy(resolve).isInstanceOf(MissingMessageIdException.class).hasNoCause();
  }

  private static org.springframework.amqp.core.Message amqp(MessageProperties properties) {
    properties.setConsumerQueue("q");
    return new org.springframework.amqp.core.Message(new byte[0], properties);
  }
}
