/** The inventory service example: the consumer side of the order/inventory saga. */
@NullMarked
package dev.outbox.examples.inventory;

import org.jspecify.annotations.NullMarked;
