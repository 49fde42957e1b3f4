/** The store SPI and its PostgreSQL implementation. */
@NullMarked
package dev.outbox.store;

import org.jspecify.annotations.NullMarked;
