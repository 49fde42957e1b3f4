package dev.outbox.examples.saga;

import java.util.List;

/** Kafka: the embedded single-node broker of {@link EmbeddedInfrastructure}, which stops it. */
final class KafkaSagaBroker implements SagaBroker {

  private static final List<String> TOPICS = List.of("orders", "stock");

  private final String bootstrapServers;

  KafkaSagaBroker(EmbeddedInfrastructure infrastructure) {
    this.bootstrapServers = infrastructure.startKafka();
  }

  @Override
  public String name() {
    return "kafka";
  }

  @Override
  public String idName() {
    return "ce_id";
  }

  @Override
  public String destinations() {
    return "the topics " + String.join(" and ", TOPICS);
  }

  @Override
  public String description() {
    return "Started one embedded Kafka broker at " + bootstrapServers + " (shared)";
  }

  @Override
  public List<String> serviceArguments() {
    return List.of("--spring.kafka.bootstrap-servers=" + bootstrapServers);
  }

  /** Always: the topics keep the messages, and a new consumer group reads from the earliest. */
  @Override
  public boolean servicesConsuming() {
    return true;
  }

  @Override
  public DuplicateInjector injectDuplicates(SagaTrace trace) {
    return new KafkaDuplicateInjector(bootstrapServers, TOPICS, trace);
  }

  @Override
  public void close() {
    // The embedded broker belongs to the infrastructure.
  }
}
