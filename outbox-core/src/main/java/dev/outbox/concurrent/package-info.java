/**
 * The threading primitives the relay, the wake-ups and the transports share: named threads and a
 * coalescing wake-up signal.
 */
@NullMarked
package dev.outbox.concurrent;

import org.jspecify.annotations.NullMarked;
