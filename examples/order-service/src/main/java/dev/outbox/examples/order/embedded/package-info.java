/** Embedded PostgreSQL and Kafka for running the example on a machine with only Java. */
@NullMarked
package dev.outbox.examples.order.embedded;

import org.jspecify.annotations.NullMarked;
