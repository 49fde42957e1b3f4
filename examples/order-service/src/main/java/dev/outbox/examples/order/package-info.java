/** The order service example. */
@NullMarked
package dev.outbox.examples.order;

import org.jspecify.annotations.NullMarked;
