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
    assertThat(defaults.channels()).isEqualTo(4);
    assertThat(new OutboxRabbitProperties().isDeclareDeadLetter()).isTrue();
    assertThat(defaults.retryUnroutable()).isFalse();
  }

  @Test
  void generatedMetadataDocumentsTheDefaultsTheCodeUses() throws Exception {
    String metadata;
    try (var in = getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
      metadata = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }

    assertThat(defaultOf(metadata, "outbox.rabbit.dead-letter-exchange"))
        .isEqualTo(RabbitOutboxOptions.DEFAULT_DEAD_LETTER_EXCHANGE);
    assertThat(defaultOf(metadata, "outbox.rabbit.dead-letter-queue"))
        .isEqualTo(RabbitOutboxOptions.DEFAULT_DEAD_LETTER_QUEUE);
    assertThat(defaultOf(metadata, "outbox.rabbit.default-routing-key"))
        .isEqualToIgnoringCase(RabbitOutboxOptions.DEFAULT_ROUTING_KEY.name());
    assertThat(literalDefaultOf(metadata, "outbox.rabbit.channels"))
        .isEqualTo(String.valueOf(RabbitOutboxOptions.DEFAULT_CHANNELS));
    assertThat(literalDefaultOf(metadata, "outbox.rabbit.declare-dead-letter"))
        .isEqualTo(String.valueOf(RabbitOutboxOptions.DEFAULT_DECLARE_DEAD_LETTER));
    assertThat(literalDefaultOf(metadata, "outbox.rabbit.retry-unroutable"))
        .isEqualTo(String.valueOf(RabbitOutboxOptions.DEFAULT_RETRY_UNROUTABLE));
  }

  private static String literalDefaultOf(String metadata, String property) {
    var matcher =
        java.util.regex.Pattern.compile(
                "\"name\"\\s*:\\s*\""
                    + java.util.regex.Pattern.quote(property)
                    + "\"[^}]*?\"defaultValue\"\\s*:\\s*([^,}\\s]+)")
            .matcher(metadata);
    assertThat(matcher.find()).as("default of %s in metadata", property).isTrue();
    return matcher.group(1);
  }

  private static String defaultOf(String metadata, String property) {
    var matcher =
        java.util.regex.Pattern.compile(
                "\"name\"\\s*:\\s*\""
                    + java.util.regex.Pattern.quote(property)
                    + "\"[^}]*?\"defaultValue\"\\s*:\\s*\"([^\"]*)\"")
            .matcher(metadata);
    assertThat(matcher.find()).as("default of %s in metadata", property).isTrue();
    return matcher.group(1);
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
    assertThat(options.withChannels(2).withRetryUnroutable(true))
        .isEqualTo(
            new RabbitOutboxOptions(
                "order-service",
                RoutingKeySource.KEY,
                "orders.dlx",
                2, /* retryUnroutable */
                true));
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

  @Test
  void rejectsChannelsOutsideTheirRangeNamingTheLimit() {
    assertThatThrownBy(() -> RabbitOutboxOptions.defaults().withChannels(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("channels must be between 1 and 64, was 0");
    assertThatThrownBy(() -> RabbitOutboxOptions.defaults().withChannels(65))
        .hasMessage("channels must be between 1 and 64, was 65");
  }
}
