package dev.outbox.testing.containers;

import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.testcontainers.service.connection.ServiceConnection;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.core.env.Environment;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.postgresql.PostgreSQLContainer;
import org.testcontainers.rabbitmq.RabbitMQContainer;

/**
 * Test configurations that run PostgreSQL, Kafka or RabbitMQ in a container and connect the
 * application to it through Spring Boot's {@link ServiceConnection}: import the ones a test needs.
 *
 * <pre>{@code
 * @SpringBootTest
 * @Import({OutboxContainers.Postgres.class, OutboxContainers.Kafka.class})
 * class OrderFlowIntegrationTests { ... }
 * }</pre>
 *
 * Each one is used only where it can work: its Testcontainers module is on the test classpath
 * ({@code org.testcontainers:testcontainers-postgresql}, {@code -kafka}, {@code -rabbitmq}, plus
 * {@code org.springframework.boot:spring-boot-testcontainers}) and {@code outbox.test.containers}
 * says so: {@code auto} (the default) when a Docker engine answers, {@code always}, or {@code
 * never}. Otherwise it defines nothing and the application's own {@code spring.datasource.*},
 * {@code spring.kafka.*} and {@code spring.rabbitmq.*} settings (local services) apply. The image
 * of each can be set with {@code outbox.test.containers.postgres-image}, {@code kafka-image} and
 * {@code rabbit-image}.
 */
public final class OutboxContainers {

  /** The default PostgreSQL image. */
  public static final String POSTGRES_IMAGE = "postgres:15-alpine";

  /** The default Kafka image (Apache Kafka in KRaft mode). */
  public static final String KAFKA_IMAGE = "apache/kafka:4.1.1";

  /** The default RabbitMQ image. */
  public static final String RABBIT_IMAGE = "rabbitmq:4-alpine";

  private OutboxContainers() {}

  /** PostgreSQL in a container, as the application's {@code DataSource}. */
  @TestConfiguration(proxyBeanMethods = false)
  @ConditionalOnClass(
      name = {
        "org.testcontainers.postgresql.PostgreSQLContainer",
        "org.springframework.boot.testcontainers.service.connection.ServiceConnection"
      })
  @Conditional(OnDockerCondition.class)
  public static class Postgres {

    @Bean
    @ServiceConnection
    PostgreSQLContainer outboxPostgresContainer(Environment environment) {
      return new PostgreSQLContainer(
          environment.getProperty("outbox.test.containers.postgres-image", POSTGRES_IMAGE));
    }
  }

  /** Apache Kafka in a container, as the application's {@code spring.kafka} connection. */
  @TestConfiguration(proxyBeanMethods = false)
  @ConditionalOnClass(
      name = {
        "org.testcontainers.kafka.KafkaContainer",
        "org.springframework.boot.testcontainers.service.connection.ServiceConnection"
      })
  @Conditional(OnDockerCondition.class)
  public static class Kafka {

    @Bean
    @ServiceConnection
    KafkaContainer outboxKafkaContainer(Environment environment) {
      return new KafkaContainer(
          environment.getProperty("outbox.test.containers.kafka-image", KAFKA_IMAGE));
    }
  }

  /** RabbitMQ in a container, as the application's {@code spring.rabbitmq} connection. */
  @TestConfiguration(proxyBeanMethods = false)
  @ConditionalOnClass(
      name = {
        "org.testcontainers.rabbitmq.RabbitMQContainer",
        "org.springframework.boot.testcontainers.service.connection.ServiceConnection"
      })
  @Conditional(OnDockerCondition.class)
  public static class Rabbit {

    @Bean
    @ServiceConnection
    RabbitMQContainer outboxRabbitContainer(Environment environment) {
      return new RabbitMQContainer(
          environment.getProperty("outbox.test.containers.rabbit-image", RABBIT_IMAGE));
    }
  }
}
