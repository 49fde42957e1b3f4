package dev.outbox.examples.order.demo;

import dev.outbox.examples.order.OrderService;
import java.util.UUID;
import org.springframework.amqp.core.Binding;
import org.springframework.amqp.core.BindingBuilder;
import org.springframework.amqp.core.Queue;
import org.springframework.amqp.core.QueueBuilder;
import org.springframework.amqp.core.TopicExchange;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.listener.SimpleMessageListenerContainer;
import org.springframework.boot.autoconfigure.condition.ConditionalOnExpression;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.core.env.Environment;
import org.springframework.kafka.core.ConsumerFactory;

/** The demo beans, present when {@code demo.orders} is above 0. */
@Configuration(proxyBeanMethods = false)
@ConditionalOnExpression("${demo.orders:0} > 0")
@Import({DemoConfiguration.KafkaDemo.class, DemoConfiguration.RabbitDemo.class})
public class DemoConfiguration {

  @Bean
  ReceivedEvents receivedEvents() {
    return new ReceivedEvents(System.out);
  }

  @Bean
  DemoRunner demoRunner(
      OrderService orderService,
      DemoConsumer demoConsumer,
      ReceivedEvents receivedEvents,
      DemoProperties properties,
      ConfigurableApplicationContext context,
      Environment environment) {
    return new DemoRunner(
        orderService, demoConsumer, receivedEvents, properties, context, environment, System.out);
  }

  /** With the Kafka transport: a plain consumer of the topic. Imported, not scanned. */
  @ConditionalOnProperty(
      prefix = "outbox.kafka",
      name = "enabled",
      havingValue = "true",
      matchIfMissing = true)
  static class KafkaDemo {

    @Bean
    KafkaDemoConsumer kafkaDemoConsumer(
        ConsumerFactory<?, ?> consumerFactory, ReceivedEvents receivedEvents) {
      return new KafkaDemoConsumer(consumerFactory, OrderService.DESTINATION, receivedEvents);
    }
  }

  /**
   * With the RabbitMQ transport: a temporary queue bound to the exchange, and its listener.
   * Imported, not scanned.
   */
  @ConditionalOnProperty(
      prefix = "outbox.rabbit",
      name = "enabled",
      havingValue = "true",
      matchIfMissing = true)
  static class RabbitDemo {

    /**
     * A temporary queue, deleted when the demo disconnects. (Spring AMQP's {@code AnonymousQueue}
     * sets {@code x-queue-leader-locator}, which RabbitMQ before 3.12 rejects for classic queues.)
     */
    @Bean
    Queue demoQueue() {
      return QueueBuilder.nonDurable("order-service.demo." + UUID.randomUUID())
          .exclusive()
          .autoDelete()
          .build();
    }

    @Bean
    Binding demoQueueBinding(Queue demoQueue, TopicExchange ordersExchange) {
      return BindingBuilder.bind(demoQueue).to(ordersExchange).with("#");
    }

    @Bean
    SimpleMessageListenerContainer demoListenerContainer(
        ConnectionFactory connectionFactory, Queue demoQueue) {
      SimpleMessageListenerContainer container =
          new SimpleMessageListenerContainer(connectionFactory);
      container.setQueues(demoQueue);
      return container;
    }

    @Bean
    RabbitDemoConsumer rabbitDemoConsumer(
        SimpleMessageListenerContainer demoListenerContainer,
        Queue demoQueue,
        ReceivedEvents receivedEvents) {
      RabbitDemoConsumer consumer =
          new RabbitDemoConsumer(
              OrderService.DESTINATION,
              demoQueue.getName(),
              receivedEvents,
              () ->
                  demoListenerContainer.isRunning()
                      && demoListenerContainer.getActiveConsumerCount() > 0);
      demoListenerContainer.setMessageListener(consumer);
      return consumer;
    }
  }
}
