/**
 * Idempotent consumers: the inbox records the id of each message a consumer handles in the
 * consumer's own database transaction, so a redelivered message has no second effect.
 */
@NullMarked
package dev.outbox.inbox;

import org.jspecify.annotations.NullMarked;
