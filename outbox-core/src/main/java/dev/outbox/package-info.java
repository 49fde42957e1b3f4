/**
 * The public API of the outbox: the event model, the publisher facade and the annotations used on
 * domain code.
 */
@NullMarked
package dev.outbox;

import org.jspecify.annotations.NullMarked;
