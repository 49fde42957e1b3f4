package dev.outbox.inbox.rabbit;

import dev.outbox.inbox.RecordingInboxListener;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.springframework.amqp.core.AcknowledgeMode;
import org.springframework.amqp.core.Binding;
import org.springframework.amqp.core.BindingBuilder;
import org.springframework.amqp.core.Declarable;
import org.springframework.amqp.core.Declarables;
import org.springframework.amqp.core.FanoutExchange;
import org.springframework.amqp.core.Queue;
import org.springframework.amqp.rabbit.config.SimpleRabbitListenerContainerFactory;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.listener.api.RabbitListenerErrorHandler;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.amqp.autoconfigure.SimpleRabbitListenerContainerFactoryConfigurer;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;

/**
 * A stock service consuming from RabbitMQ with Spring Data JPA ({@code JpaTransactionManager}). A
 * fanout exchange copies each message to two queues read by two containers, which share one
 * consumer name; a third queue is read by one container (its rejected messages go to the queue
 * named by {@code inbox-test.single-dead-letter-queue}, when set); two more by listeners that
 * acknowledge their messages themselves.
 */
@SpringBootApplication
public class RabbitConsumerApplication {

  /** What the listeners failed with. */
  public static final List<Throwable> failures = new CopyOnWriteArrayList<>();

  @Bean
  RecordingInboxListener recordingInboxListener() {
    return new RecordingInboxListener();
  }

  @Bean
  Declarables inboxTestTopology(
      @Value("${inbox-test.single-queue}") String single,
      @Value("${inbox-test.pair-exchange}") String pair,
      @Value("${inbox-test.queue-a}") String queueA,
      @Value("${inbox-test.queue-b}") String queueB,
      @Value("${inbox-test.manual-prefetch-one-queue}") String manualPrefetchOne,
      @Value("${inbox-test.manual-queue}") String manual,
      @Value("${inbox-test.single-dead-letter-queue:}") String singleDeadLetters) {
    FanoutExchange exchange = new FanoutExchange(pair, false, true);
    Queue a = new Queue(queueA, false, false, true);
    Queue b = new Queue(queueB, false, false, true);
    Binding toA = BindingBuilder.bind(a).to(exchange);
    Binding toB = BindingBuilder.bind(b).to(exchange);
    List<Declarable> declarables = new ArrayList<>();
    if (singleDeadLetters.isEmpty()) {
      declarables.add(new Queue(single, false, false, true));
    } else {
      declarables.add(
          new Queue(
              single,
              false,
              false,
              true,
              Map.of(
                  "x-dead-letter-exchange", "", "x-dead-letter-routing-key", singleDeadLetters)));
      declarables.add(new Queue(singleDeadLetters, false, false, false));
    }
    declarables.addAll(
        List.of(
            exchange,
            a,
            b,
            toA,
            toB,
            new Queue(manualPrefetchOne, false, false, true),
            new Queue(manual, false, false, true)));
    return new Declarables(declarables);
  }

  /**
   * Containers that leave acknowledging to the listener ({@code AcknowledgeMode.MANUAL}) and hold
   * at most one unacknowledged message: one that is never acknowledged stops the container.
   */
  @Bean
  SimpleRabbitListenerContainerFactory manualPrefetchOneContainerFactory(
      SimpleRabbitListenerContainerFactoryConfigurer configurer,
      ConnectionFactory connectionFactory) {
    SimpleRabbitListenerContainerFactory factory = new SimpleRabbitListenerContainerFactory();
    configurer.configure(factory, connectionFactory);
    factory.setAcknowledgeMode(AcknowledgeMode.MANUAL);
    factory.setPrefetchCount(1);
    return factory;
  }

  /**
   * For listeners that acknowledge themselves: records each failure, then requeues the message
   * (negative acknowledgement) as such a listener's error handling would, and rethrows so that the
   * container does not acknowledge it as handled.
   */
  @Bean
  RabbitListenerErrorHandler nackingErrorHandler() {
    return (amqpMessage, channel, message, exception) -> {
      failures.add(exception);
      if (channel != null) {
        channel.basicNack(amqpMessage.getMessageProperties().getDeliveryTag(), false, true);
      }
      throw exception;
    };
  }

  /**
   * Records each failure and rethrows it: the container then requeues the message, unless the
   * failure says not to (a message without an id).
   */
  @Bean
  RabbitListenerErrorHandler recordingErrorHandler() {
    return (amqpMessage, channel, message, exception) -> {
      failures.add(exception);
      throw exception;
    };
  }
}
