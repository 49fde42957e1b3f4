package dev.outbox.kafka;

/**
 * Headers a dead letter carries in addition to the original record's headers. Values are UTF-8
 * strings.
 */
public final class DeadLetterHeaders {

  /** The topic the event was meant for. */
  public static final String ORIGINAL_TOPIC = "outbox_dlt_original_topic";

  /** The last error, a one-line description. */
  public static final String ERROR = "outbox_dlt_error";

  /** The class name of the last error. */
  public static final String ERROR_CLASS = "outbox_dlt_error_class";

  /** The delivery attempts made, a decimal integer. */
  public static final String ATTEMPTS = "outbox_dlt_attempts";

  /**
   * {@code true} when the value was left out because the record was too large for the broker; the
   * full payload stays in the outbox table.
   */
  public static final String PAYLOAD_OMITTED = "outbox_dlt_payload_omitted";

  private DeadLetterHeaders() {}
}
