package dev.outbox.spring;

import dev.outbox.relay.OutboxRelay;

/**
 * Customizes what the {@code outbox.*} properties cannot express. Every bean of this type is
 * applied to the relay builder before the relay is built.
 */
@FunctionalInterface
public interface OutboxCustomizer {

  void customize(OutboxRelay.Builder relay);
}
