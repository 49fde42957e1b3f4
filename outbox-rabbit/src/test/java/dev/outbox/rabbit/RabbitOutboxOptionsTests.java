package dev.outbox.rabbit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RabbitOutboxOptionsTests {

  @Test
  void defaultsAreTheDocumentedConstants() {
    RabbitOutboxOptions defaults = RabbitOutboxOptions.defaults();

    assertThat(defaults.source()).isEqualTo("outbox");
    assertThat(defaults.defaultRoutingKey()).isEqualTo(RoutingKeySource.TYPE);
    assertThat(defaults.deadLetterExchange()).isEqualTo("outbox.dlx");
    assertThat(new OutboxRabbitProperties().toOptions(null)).isEqualTo(defaults);
    assertThat(new OutboxRabbitProperties().getDeadLetterQueue()).isEqualTo("outbox.dlq");
  }

  @Test
  void withMethodsChangeOneSetting() {
    RabbitOutboxOptions options =
        RabbitOutboxOptions.defaults()
            .withSource("order-service")
            .withDefaultRoutingKey(RoutingKeySource.KEY)
            .withDeadLetterExchange("orders.dlx");

    assertThat(options)
        .isEqualTo(new RabbitOutboxOptions("order-service", RoutingKeySource.KEY, "orders.dlx"));
  }

  @Test
  void rejectsBlankSourceAndDefaultExchangeAsDeadLetterExchange() {
    assertThatThrownBy(() -> RabbitOutboxOptions.defaults().withSource(" "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("source");
    assertThatThrownBy(() -> RabbitOutboxOptions.defaults().withDeadLetterExchange(""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("deadLetterExchange");
  }
}
