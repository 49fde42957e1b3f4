/** The broker SPI: how the relay hands events to Kafka, RabbitMQ or another broker. */
@NullMarked
package dev.outbox.transport;

import org.jspecify.annotations.NullMarked;
