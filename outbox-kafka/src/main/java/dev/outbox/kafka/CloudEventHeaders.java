package dev.outbox.kafka;

import dev.outbox.OutboxEvent;
import java.nio.charset.StandardCharsets;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * The headers of a record in CloudEvents 1.0 Kafka binary content mode: the event attributes as
 * {@code ce_*} headers, the JSON payload as the record value.
 */
public final class CloudEventHeaders {

  /** The event id (UUIDv7), the same on every delivery attempt: consumers de-duplicate by it. */
  public static final String ID = "ce_id";

  /** The event type name, e.g. {@code OrderPlaced}. */
  public static final String TYPE = "ce_type";

  /** Who produced the event: the configured source or the application name. */
  public static final String SOURCE = "ce_source";

  /** Always {@value #SPEC_VERSION_1_0}. */
  public static final String SPEC_VERSION = "ce_specversion";

  /** When the event was written to the outbox, RFC 3339 in UTC. */
  public static final String TIME = "ce_time";

  /** The aggregate key; absent for unkeyed events. */
  public static final String SUBJECT = "ce_subject";

  /** Extension: the event type version, a positive integer. */
  public static final String EVENT_VERSION = "ce_eventversion";

  /** Extension: the aggregate type; absent when the event has none. */
  public static final String AGGREGATE_TYPE = "ce_aggregatetype";

  /** The content type of the value, {@value #JSON}. */
  public static final String CONTENT_TYPE = "content-type";

  public static final String SPEC_VERSION_1_0 = "1.0";

  public static final String JSON = "application/json";

  /**
   * Headers the transport sets, in lower case; an event header of one of these names, in any case,
   * is not sent.
   */
  static final Set<String> RESERVED =
      Set.of(
          ID,
          TYPE,
          SOURCE,
          SPEC_VERSION,
          TIME,
          SUBJECT,
          EVENT_VERSION,
          AGGREGATE_TYPE,
          CONTENT_TYPE);

  private static final byte[] SPEC_VERSION_BYTES =
      SPEC_VERSION_1_0.getBytes(StandardCharsets.UTF_8);
  private static final byte[] JSON_BYTES = JSON.getBytes(StandardCharsets.UTF_8);

  private CloudEventHeaders() {}

  /**
   * The headers of {@code event}: its CloudEvents attributes, then every header stored with the
   * event (trace context and the like) whose name the transport does not use itself.
   */
  public static Headers of(OutboxEvent event, String source) {
    RecordHeaders headers = new RecordHeaders();
    add(headers, ID, event.id().toString());
    add(headers, SOURCE, source);
    headers.add(SPEC_VERSION, SPEC_VERSION_BYTES);
    add(headers, TYPE, event.type());
    add(headers, TIME, DateTimeFormatter.ISO_INSTANT.format(event.createdAt()));
    headers.add(CONTENT_TYPE, JSON_BYTES);
    if (event.key() != null) {
      add(headers, SUBJECT, event.key());
    }
    add(headers, EVENT_VERSION, Integer.toString(event.version()));
    if (event.aggregateType() != null) {
      add(headers, AGGREGATE_TYPE, event.aggregateType());
    }
    for (Map.Entry<String, String> header : event.headers().entrySet()) {
      if (!RESERVED.contains(header.getKey().toLowerCase(Locale.ROOT))) {
        add(headers, header.getKey(), header.getValue());
      }
    }
    return headers;
  }

  static void add(Headers headers, String name, String value) {
    headers.add(name, value.getBytes(StandardCharsets.UTF_8));
  }
}
