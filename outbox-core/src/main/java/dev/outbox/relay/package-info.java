/** The relay engine: claims committed events, hands them to the transport, records outcomes. */
@NullMarked
package dev.outbox.relay;

import org.jspecify.annotations.NullMarked;
