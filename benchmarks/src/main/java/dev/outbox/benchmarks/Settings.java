package dev.outbox.benchmarks;

/**
 * Where the services are, read from system properties (set by {@code benchmarks/run.sh}) with the
 * local defaults of this machine kind.
 */
record Settings(
    String jdbcUrl,
    String dbUser,
    String kafkaBootstrap,
    String rabbitHost,
    int rabbitPort,
    String rabbitUser,
    String rabbitPassword,
    String rabbitQueueType) {

  /**
   * The type of the queue the RabbitMQ cases publish to: {@code quorum} (default), the durable
   * queue type RabbitMQ recommends for messages that must not be lost, or {@code classic}.
   */
  static final String RABBIT_QUEUE_TYPE = "bench.rabbit-queue-type";

  static Settings fromSystem() {
    return new Settings(
        System.getProperty(
            "bench.jdbc-url", "jdbc:postgresql://127.0.0.1:5432/outbox_bench?prepareThreshold=1"),
        System.getProperty("bench.db-user", "postgres"),
        System.getProperty("bench.kafka", "127.0.0.1:19092"),
        System.getProperty("bench.rabbit-host", "127.0.0.1"),
        Integer.getInteger("bench.rabbit-port", 5672),
        System.getProperty("bench.rabbit-user", "guest"),
        System.getProperty("bench.rabbit-password", "guest"),
        System.getProperty(RABBIT_QUEUE_TYPE, "quorum"));
  }
}
