package dev.outbox.inbox.spring;

import dev.outbox.OutboxException;
import dev.outbox.inbox.MissingMessageIdException;
import java.lang.annotation.Annotation;
import java.lang.reflect.Method;
import java.lang.reflect.Parameter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.springframework.util.ClassUtils;

/**
 * Finds the message id among the arguments of an idempotent listener method. Which parameter
 * carries it is decided once per method, when the method is advised; a method without one fails
 * then.
 */
abstract class MessageIdResolver {

  /** Kafka: the CloudEvents id header. */
  static final String KAFKA_ID = "ce_id";

  /** AMQP: the CloudEvents id application property, preferred spelling. */
  static final String AMQP_CLOUD_EVENTS_ID = "cloudEvents_id";

  /** AMQP: the CloudEvents id application property, alternative spelling. */
  static final String AMQP_CLOUD_EVENTS_ID_COLON = "cloudEvents:id";

  /** Spring AMQP's messaging header for the {@code message_id} property. */
  static final String AMQP_MESSAGE_ID = "amqp_messageId";

  /** Spring AMQP's messaging header naming the queue a message was received from. */
  static final String AMQP_CONSUMER_QUEUE = "amqp_consumerQueue";

  static final List<String> HEADER_NAMES =
      List.of(KAFKA_ID, AMQP_MESSAGE_ID, AMQP_CLOUD_EVENTS_ID, AMQP_CLOUD_EVENTS_ID_COLON);

  /** The names of {@link #HEADER_NAMES} a message from RabbitMQ carries its id in. */
  static final List<String> AMQP_HEADER_NAMES =
      List.of(AMQP_MESSAGE_ID, AMQP_CLOUD_EVENTS_ID, AMQP_CLOUD_EVENTS_ID_COLON);

  private static final ClassLoader LOADER = MessageIdResolver.class.getClassLoader();
  private static final boolean KAFKA =
      ClassUtils.isPresent("org.apache.kafka.clients.consumer.ConsumerRecord", LOADER);
  private static final boolean AMQP =
      ClassUtils.isPresent("org.springframework.amqp.core.Message", LOADER);
  private static final boolean MESSAGING =
      ClassUtils.isPresent("org.springframework.messaging.Message", LOADER);

  final int index;

  MessageIdResolver(int index) {
    this.index = index;
  }

  /**
   * The id in {@code args}.
   *
   * @throws MissingMessageIdException if the message carries none; for a message from RabbitMQ, its
   *     cause is Spring AMQP's {@code AmqpRejectAndDontRequeueException}, so the listener container
   *     rejects the message rather than requeue it, where it would fail again at once, for ever
   */
  final String resolve(@Nullable Object[] args) {
    Object arg = args[index];
    String id = arg == null ? null : id(arg);
    if (id != null) {
      return id;
    }
    String problem = arg == null ? whenNull() : withoutId(arg);
    throw AMQP && fromRabbit(arg) ? Amqp.rejected(problem) : new MissingMessageIdException(problem);
  }

  /** The id {@code arg} carries, or {@code null} if it carries none. */
  abstract @Nullable String id(Object arg);

  /** Says that {@code arg} carries no id. */
  abstract String withoutId(Object arg);

  /** Says that the parameter is {@code null}. */
  String whenNull() {
    return "The message parameter #" + index + " of the idempotent listener is null";
  }

  /**
   * Whether the message without an id came from RabbitMQ. {@code arg} is the parameter's value: for
   * a header parameter, {@code null} is a message without the header; for a message parameter, it
   * is no message at all (a direct call), which no container delivered.
   */
  abstract boolean fromRabbit(@Nullable Object arg);

  /**
   * The resolver for {@code method}.
   *
   * @throws OutboxException if no parameter carries the id
   */
  static MessageIdResolver forMethod(Method method) {
    Parameter[] parameters = method.getParameters();
    for (int i = 0; i < parameters.length; i++) {
      String header = MESSAGING ? Messaging.headerName(parameters[i]) : null;
      if (header != null) {
        return new HeaderParameter(i, header);
      }
    }
    for (int i = 0; i < parameters.length; i++) {
      Class<?> type = parameters[i].getType();
      if (KAFKA && Kafka.accepts(type)) {
        return new Kafka(i);
      }
      if (AMQP && Amqp.accepts(type)) {
        return new Amqp(i);
      }
      if (MESSAGING && Messaging.accepts(type)) {
        return new Messaging(i);
      }
    }
    throw new OutboxException(
        "@IdempotentListener method "
            + method
            + " has no parameter carrying the message id: add a Kafka ConsumerRecord, an"
            + " org.springframework.amqp.core.Message or an org.springframework.messaging.Message"
            + " parameter, or a String parameter annotated @Header(\""
            + KAFKA_ID
            + "\") (Kafka) or @Header(\""
            + AMQP_MESSAGE_ID
            + "\") (RabbitMQ)");
  }

  static @Nullable String text(@Nullable Object value) {
    if (value == null) {
      return null;
    }
    String text =
        value instanceof byte[] bytes
            ? new String(bytes, StandardCharsets.UTF_8)
            : value instanceof UUID uuid ? uuid.toString() : value.toString();
    return text.isBlank() ? null : text;
  }

  /** A Kafka {@code ConsumerRecord}: header {@code ce_id}. */
  static final class Kafka extends MessageIdResolver {

    Kafka(int index) {
      super(index);
    }

    static boolean accepts(Class<?> type) {
      return org.apache.kafka.clients.consumer.ConsumerRecord.class.isAssignableFrom(type);
    }

    @Override
    @Nullable String id(Object arg) {
      var header =
          ((org.apache.kafka.clients.consumer.ConsumerRecord<?, ?>) arg)
              .headers()
              .lastHeader(KAFKA_ID);
      return header == null ? null : text(header.value());
    }

    @Override
    String withoutId(Object arg) {
      var record = (org.apache.kafka.clients.consumer.ConsumerRecord<?, ?>) arg;
      return "Kafka record "
          + record.topic()
          + "-"
          + record.partition()
          + "@"
          + record.offset()
          + " has no "
          + KAFKA_ID
          + " header: the idempotent listener cannot de-duplicate it";
    }

    @Override
    boolean fromRabbit(@Nullable Object arg) {
      return false;
    }
  }

  /** An AMQP message: {@code message_id}, else {@code cloudEvents_id} / {@code cloudEvents:id}. */
  static final class Amqp extends MessageIdResolver {

    Amqp(int index) {
      super(index);
    }

    static boolean accepts(Class<?> type) {
      return org.springframework.amqp.core.Message.class.isAssignableFrom(type);
    }

    /**
     * The failure for a message from RabbitMQ without an id. Only this class names Spring AMQP's
     * types, so the others load without it.
     */
    static MissingMessageIdException rejected(String problem) {
      return new MissingMessageIdException(
          problem,
          new org.springframework.amqp.AmqpRejectAndDontRequeueException(
              "A message without an id is rejected, not requeued"));
    }

    @Override
    @Nullable String id(Object arg) {
      var properties = ((org.springframework.amqp.core.Message) arg).getMessageProperties();
      String id = text(properties.getMessageId());
      if (id == null) {
        id = text(properties.getHeader(AMQP_CLOUD_EVENTS_ID));
      }
      if (id == null) {
        id = text(properties.getHeader(AMQP_CLOUD_EVENTS_ID_COLON));
      }
      return id;
    }

    @Override
    String withoutId(Object arg) {
      var properties = ((org.springframework.amqp.core.Message) arg).getMessageProperties();
      return "AMQP message from queue "
          + properties.getConsumerQueue()
          + " (delivery tag "
          + properties.getDeliveryTag()
          + ") has no message-id property and no "
          + AMQP_CLOUD_EVENTS_ID
          + " or "
          + AMQP_CLOUD_EVENTS_ID_COLON
          + " header: the idempotent listener cannot de-duplicate it";
    }

    @Override
    boolean fromRabbit(@Nullable Object arg) {
      return arg != null;
    }
  }

  /** A Spring messaging message: the first id header present. */
  static final class Messaging extends MessageIdResolver {

    Messaging(int index) {
      super(index);
    }

    static boolean accepts(Class<?> type) {
      return org.springframework.messaging.Message.class.isAssignableFrom(type);
    }

    static @Nullable String headerName(Parameter parameter) {
      for (Annotation annotation : parameter.getAnnotations()) {
        if (annotation instanceof org.springframework.messaging.handler.annotation.Header header) {
          String name = header.name().isEmpty() ? header.value() : header.name();
          if (HEADER_NAMES.contains(name)) {
            return name;
          }
        }
      }
      return null;
    }

    /**
     * The first id header present; of a message from RabbitMQ, only the AMQP ones, so that an
     * application header named {@code ce_id} does not stand in for its {@code message_id}.
     */
    @Override
    @Nullable String id(Object arg) {
      var headers = ((org.springframework.messaging.Message<?>) arg).getHeaders();
      for (String name : fromRabbit(arg) ? AMQP_HEADER_NAMES : HEADER_NAMES) {
        String id = text(headers.get(name));
        if (id != null) {
          return id;
        }
      }
      return null;
    }

    @Override
    String withoutId(Object arg) {
      return "Message has none of the headers "
          + HEADER_NAMES
          + ": the idempotent listener cannot de-duplicate it";
    }

    /** Spring AMQP names the queue it received the message from. */
    @Override
    boolean fromRabbit(@Nullable Object arg) {
      return arg instanceof org.springframework.messaging.Message<?> message
          && message.getHeaders().containsKey(AMQP_CONSUMER_QUEUE);
    }
  }

  /** A parameter bound with {@code @Header(name)}. */
  static final class HeaderParameter extends MessageIdResolver {

    private final String header;

    HeaderParameter(int index, String header) {
      super(index);
      this.header = header;
    }

    @Override
    @Nullable String id(Object arg) {
      return text(arg);
    }

    @Override
    String whenNull() {
      return "The message has no "
          + header
          + " header: the idempotent listener cannot de-duplicate it";
    }

    @Override
    String withoutId(Object arg) {
      return "The "
          + header
          + " header is blank: the idempotent listener cannot de-duplicate the message";
    }

    /** Every header it may name but Kafka's is an AMQP one. */
    @Override
    boolean fromRabbit(@Nullable Object arg) {
      return !header.equals(KAFKA_ID);
    }
  }
}
