package dev.outbox.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.EventIds;
import dev.outbox.OutboxEvent;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.junit.jupiter.api.Test;

class CloudEventHeadersTests {

  @Test
  void carriesTheEventAttributesAsCeHeaders() {
    OutboxEvent event = event("order-1", "Order", Map.of());

    Map<String, String> headers = asMap(CloudEventHeaders.of(event, "order-service"));

    assertThat(headers)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "ce_id", event.id().toString(),
                "ce_type", "OrderPlaced",
                "ce_source", "order-service",
                "ce_specversion", "1.0",
                "ce_time", "2025-03-01T10:15:30.123456Z",
                "ce_subject", "order-1",
                "ce_eventversion", "2",
                "ce_aggregatetype", "Order",
                "content-type", "application/json"));
  }

  @Test
  void leavesOutSubjectAndAggregateTypeWhenAbsent() {
    Map<String, String> headers = asMap(CloudEventHeaders.of(event(null, null, Map.of()), "s"));

    assertThat(headers).doesNotContainKeys("ce_subject", "ce_aggregatetype");
  }

  @Test
  void passesEventHeadersThroughButNeverOverTheTransportsOwn() {
    OutboxEvent event =
        event(
            "k",
            null,
            Map.of(
                "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "ce_id", "forged",
                "content-type", "text/plain",
                "CE_Subject", "forged-key",
                "Content-Type", "text/plain",
                "tenant", "zürich"));

    Headers headers = CloudEventHeaders.of(event, "s");

    assertThat(asMap(headers))
        .containsEntry("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        .containsEntry("tenant", "zürich")
        .containsEntry("ce_id", event.id().toString())
        .containsEntry("content-type", "application/json");
    assertThat(headers.headers("ce_id")).hasSize(1);
    assertThat(asMap(headers))
        .as("headers named like the transport's own in another case")
        .doesNotContainKeys("CE_Subject", "Content-Type");
    assertThat(headers.lastHeader("tenant").value())
        .isEqualTo("zürich".getBytes(StandardCharsets.UTF_8));
  }

  private static OutboxEvent event(String key, String aggregateType, Map<String, String> headers) {
    return new OutboxEvent(
        EventIds.next(),
        1,
        "orders",
        key,
        aggregateType,
        "OrderPlaced",
        2,
        "{}",
        headers,
        Instant.parse("2025-03-01T10:15:30.123456Z"),
        0);
  }

  private static Map<String, String> asMap(Headers headers) {
    Map<String, String> map = new LinkedHashMap<>();
    for (Header header : headers) {
      map.put(header.key(), new String(header.value(), StandardCharsets.UTF_8));
    }
    return map;
  }
}
