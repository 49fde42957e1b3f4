/**
 * RabbitMQ transport: publishes outbox events through Spring AMQP with correlated publisher
 * confirms and mandatory returns, and dead-letters what cannot be delivered.
 */
@NullMarked
package dev.outbox.rabbit;

import org.jspecify.annotations.NullMarked;
