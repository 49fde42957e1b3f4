package dev.outbox.examples.saga;

import java.util.Locale;

/** The broker the saga runs over, chosen with {@code --saga.transport=kafka|rabbit}. */
public enum SagaTransport {

  /** One embedded Kafka broker, started by the demo. */
  KAFKA,

  /**
   * A RabbitMQ broker that runs already: Spring Boot's defaults ({@code localhost:5672}, {@code
   * guest}/{@code guest}, virtual host {@code /}) or the {@code spring.rabbitmq.*} arguments.
   */
  RABBIT;

  /**
   * Starts or connects to the broker.
   *
   * @param arguments the Spring Boot arguments of the run, which may point at the RabbitMQ broker
   */
  SagaBroker start(EmbeddedInfrastructure infrastructure, String... arguments) {
    return switch (this) {
      case KAFKA -> new KafkaSagaBroker(infrastructure);
      case RABBIT -> new RabbitSagaBroker(arguments);
    };
  }

  /**
   * The transport named {@code value} ({@code kafka} or {@code rabbit}, any case).
   *
   * @throws IllegalArgumentException for any other name
   */
  public static SagaTransport parse(String value) {
    for (SagaTransport transport : values()) {
      if (transport.name().equals(value.toUpperCase(Locale.ROOT))) {
        return transport;
      }
    }
    throw new IllegalArgumentException(
        "Invalid --saga.transport '" + value + "': use kafka or rabbit");
  }
}
