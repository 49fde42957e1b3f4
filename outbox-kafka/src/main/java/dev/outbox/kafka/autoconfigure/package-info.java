/** Spring Boot auto-configuration of the Kafka transport ({@code outbox.kafka.*}). */
@NullMarked
package dev.outbox.kafka.autoconfigure;

import org.jspecify.annotations.NullMarked;
