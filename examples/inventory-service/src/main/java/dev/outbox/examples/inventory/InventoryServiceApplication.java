package dev.outbox.examples.inventory;

import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;

/**
 * An inventory service: consumes {@link OrderPlaced} from Kafka (or RabbitMQ, profile {@code
 * rabbit}) exactly once in effect (the inbox), reserves or rejects stock, and answers with {@link
 * StockReserved} or {@link StockRejected} through its own outbox, all in one database transaction.
 *
 * <p>Its configuration file is {@code inventory-service.properties}, so that it can share a JVM
 * (and a class path) with the order service in the saga demo. It needs {@code spring.datasource.*}
 * and {@code spring.kafka.bootstrap-servers}; with the {@code rabbit} profile ({@code
 * inventory-service-rabbit.properties}), {@code spring.rabbitmq.*} instead of the latter.
 */
@SpringBootApplication
public class InventoryServiceApplication {

  /** The configuration file name of this service. */
  public static final String CONFIG_NAME = "inventory-service";

  public static void main(String[] args) {
    builder().run(args);
  }

  /** A builder for this application with its own configuration file name. */
  public static SpringApplicationBuilder builder() {
    return new SpringApplicationBuilder(InventoryServiceApplication.class)
        .properties("spring.config.name=" + CONFIG_NAME);
  }
}
