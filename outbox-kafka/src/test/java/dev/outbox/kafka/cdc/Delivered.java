package dev.outbox.kafka.cdc;

import io.cloudevents.CloudEvent;
import io.cloudevents.kafka.CloudEventDeserializer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * A record as Kafka Connect writes it to the topic: key, value and headers through the converters
 * of the documented configuration.
 */
record Delivered(String topic, byte[] key, byte[] value, Headers headers) {

  String id() {
    return headerValues().getOrDefault("ce_id", "");
  }

  String payload() {
    return new String(value, StandardCharsets.UTF_8);
  }

  /** The record read by the CloudEvents SDK's Kafka deserializer, as a consumer would. */
  CloudEvent cloudEvent() {
    try (CloudEventDeserializer deserializer = new CloudEventDeserializer()) {
      deserializer.configure(Map.of(), false);
      return deserializer.deserialize(topic, headers, value);
    }
  }

  /** Each header's last value as a consumer reads it (UTF-8), null where the value is null. */
  Map<String, String> headerValues() {
    Map<String, String> values = new HashMap<>();
    for (Header header : headers) {
      values.put(
          header.key(),
          header.value() == null ? null : new String(header.value(), StandardCharsets.UTF_8));
    }
    return values;
  }
}
