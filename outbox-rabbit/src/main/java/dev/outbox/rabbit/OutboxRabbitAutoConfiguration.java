package dev.outbox.rabbit;

import dev.outbox.transport.OutboxTransport;
import org.springframework.amqp.core.Binding;
import org.springframework.amqp.core.BindingBuilder;
import org.springframework.amqp.core.Declarables;
import org.springframework.amqp.core.Queue;
import org.springframework.amqp.core.QueueBuilder;
import org.springframework.amqp.core.TopicExchange;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.core.RabbitTemplate;
import org.springframework.boot.amqp.autoconfigure.RabbitAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;

/**
 * Publishes the outbox to RabbitMQ over the application's {@link ConnectionFactory} (Spring Boot's
 * {@code spring.rabbitmq.*}), and declares the dead-letter exchange and queue unless told not to.
 */
@AutoConfiguration(after = RabbitAutoConfiguration.class)
@ConditionalOnClass(RabbitTemplate.class)
@ConditionalOnProperty(prefix = "outbox.rabbit", name = "enabled", matchIfMissing = true)
@EnableConfigurationProperties(OutboxRabbitProperties.class)
public class OutboxRabbitAutoConfiguration {

  @Bean
  @ConditionalOnMissingBean(OutboxTransport.class)
  @ConditionalOnSingleCandidate(ConnectionFactory.class)
  RabbitOutboxTransport rabbitOutboxTransport(
      ConnectionFactory connectionFactory,
      OutboxRabbitProperties properties,
      Environment environment) {
    return new RabbitOutboxTransport(
        connectionFactory,
        properties.toOptions(environment.getProperty("spring.application.name")));
  }

  /**
   * The dead-letter exchange and queue, declared by Spring Boot's {@code AmqpAdmin} whenever it
   * opens a connection. A declaration the broker refuses (no configure permission, or an exchange
   * of that name with other settings) is logged by the {@code AmqpAdmin} and does not fail the
   * connection; the transport then finds the exchange missing and says so.
   */
  @Bean
  @ConditionalOnProperty(
      prefix = "outbox.rabbit",
      name = "declare-dead-letter",
      havingValue = "true",
      matchIfMissing = RabbitOutboxOptions.DEFAULT_DECLARE_DEAD_LETTER)
  Declarables outboxDeadLetterTopology(OutboxRabbitProperties properties) {
    TopicExchange exchange = new TopicExchange(properties.getDeadLetterExchange(), true, false);
    Queue queue = QueueBuilder.durable(properties.getDeadLetterQueue()).build();
    Binding binding = BindingBuilder.bind(queue).to(exchange).with("#");
    exchange.setIgnoreDeclarationExceptions(true);
    queue.setIgnoreDeclarationExceptions(true);
    binding.setIgnoreDeclarationExceptions(true);
    return new Declarables(exchange, queue, binding);
  }
}
