/**
 * The Kafka transport: publishes outbox events as CloudEvents 1.0 binary-mode records through a
 * Spring Kafka {@code KafkaTemplate} configured from the application's {@code spring.kafka.*}
 * settings.
 */
@NullMarked
package dev.outbox.kafka;

import org.jspecify.annotations.NullMarked;
