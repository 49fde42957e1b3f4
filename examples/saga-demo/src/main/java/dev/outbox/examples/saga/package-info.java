/** The order/inventory saga demo: both services in one JVM, checked end to end. */
@NullMarked
package dev.outbox.examples.saga;

import org.jspecify.annotations.NullMarked;
