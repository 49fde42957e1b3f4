/**
 * Testcontainers service connections for PostgreSQL, Kafka and RabbitMQ, used only where a Docker
 * engine answers; see {@link dev.outbox.testing.containers.OutboxContainers}.
 */
@NullMarked
package dev.outbox.testing.containers;

import org.jspecify.annotations.NullMarked;
