/**
 * Demo mode ({@code demo.orders > 0}): places a few orders after startup and prints the events a
 * plain Kafka or RabbitMQ consumer receives.
 */
@NullMarked
package dev.outbox.examples.order.demo;

import org.jspecify.annotations.NullMarked;
