/**
 * RabbitMQ transport: publishes outbox events on the application's Spring AMQP connection, on
 * channels of its own in confirm mode with mandatory returns, charges a failure only to the message
 * that caused it, and dead-letters what cannot be delivered.
 */
@NullMarked
package dev.outbox.rabbit;

import org.jspecify.annotations.NullMarked;
