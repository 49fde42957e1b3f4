package dev.outbox.examples.order;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/**
 * An order service that publishes {@link OrderPlaced} through the transactional outbox.
 *
 * <p>Without {@code spring.datasource.url} and {@code spring.kafka.bootstrap-servers} it starts an
 * embedded PostgreSQL and an embedded Kafka broker (see {@code embedded}); with {@code
 * --demo.orders=5} it places orders and prints the events as a consumer receives them (see {@code
 * demo}).
 */
@SpringBootApplication
@ConfigurationPropertiesScan
public class OrderServiceApplication {

  public static void main(String[] args) {
    SpringApplication.run(OrderServiceApplication.class, args);
  }
}
