package dev.outbox.examples.order.demo;

import java.time.Duration;

/** The consumer the demo reads the published events with. */
public interface DemoConsumer {

  /** Where it reads from, e.g. {@code Kafka topic "orders"}. */
  String description();

  /**
   * Waits until the consumer will see every message published from now on.
   *
   * @return whether it became ready within {@code timeout}
   */
  boolean awaitReady(Duration timeout) throws InterruptedException;
}
