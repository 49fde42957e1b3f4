package dev.outbox.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import dev.outbox.EventIds;
import dev.outbox.OutboxEvent;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.core.ProducerFactory;

class KafkaTransportOptionsTests {

  @Test
  void defaultsToSpringKafkasDeadLetterSuffixAndTheOutboxSource() {
    KafkaTransportOptions options = KafkaTransportOptions.defaults();

    assertThat(options.deadLetterSuffix()).isEqualTo("-dlt");
    assertThat(options.source()).isEqualTo("outbox");
  }

  @Test
  void rejectsABlankSourceAndSuffixesThatAreNotTopicCharacters() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> KafkaTransportOptions.defaults().withSource(" "));
    assertThatIllegalArgumentException()
        .isThrownBy(() -> KafkaTransportOptions.defaults().withDeadLetterSuffix(""));
    assertThatIllegalArgumentException()
        .isThrownBy(() -> KafkaTransportOptions.defaults().withDeadLetterSuffix("/dead"));
  }

  @Test
  void namesTheDeadLetterTopicAfterTheEventsTopic() {
    ProducerFactory<String, String> factory = () -> null;
    KafkaOutboxTransport transport =
        new KafkaOutboxTransport(
            new KafkaTemplate<>(factory),
            KafkaTransportOptions.defaults().withDeadLetterSuffix(".DLT"));
    OutboxEvent event =
        new OutboxEvent(
            EventIds.next(), 1, "orders", null, null, "T", 1, "{}", Map.of(), Instant.now(), 0);

    assertThat(transport.deadLetterDestination(event)).isEqualTo("orders.DLT");
  }
}
