/** The relay engine: leases slots, publishes their committed events, records the outcomes. */
@NullMarked
package dev.outbox.relay;

import org.jspecify.annotations.NullMarked;
