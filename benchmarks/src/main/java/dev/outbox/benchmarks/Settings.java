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
    String rabbitPassword) {

  static Settings fromSystem() {
    return new Settings(
        System.getProperty(
            "bench.jdbc-url", "jdbc:postgresql://127.0.0.1:5432/outbox_bench?prepareThreshold=1"),
        System.getProperty("bench.db-user", "postgres"),
        System.getProperty("bench.kafka", "127.0.0.1:19092"),
        System.getProperty("bench.rabbit-host", "127.0.0.1"),
        Integer.getInteger("bench.rabbit-port", 5672),
        System.getProperty("bench.rabbit-user", "guest"),
        System.getProperty("bench.rabbit-password", "guest"));
  }
}
