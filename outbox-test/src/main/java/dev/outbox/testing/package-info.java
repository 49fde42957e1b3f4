/**
 * Test kit for applications that publish through the outbox: a capturing transport and AssertJ
 * assertions on the events a transaction wrote ({@link dev.outbox.testing.OutboxAssertions}), a
 * view of the outbox table, a synchronous drain, a duplicate-delivery mode for consumer tests, and
 * optional Testcontainers service connections. Start with {@link
 * dev.outbox.testing.AutoConfigureOutboxTest}.
 */
@NullMarked
package dev.outbox.testing;

import org.jspecify.annotations.NullMarked;
