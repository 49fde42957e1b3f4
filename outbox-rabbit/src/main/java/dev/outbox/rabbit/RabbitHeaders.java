package dev.outbox.rabbit;

/**
 * Names of the AMQP headers the transport writes.
 *
 * <p>CloudEvents attributes follow the CloudEvents AMQP protocol binding (binary content mode):
 * every attribute except {@code datacontenttype} is an application property prefixed with {@code
 * cloudEvents_}; the binding permits {@code cloudEvents:} too but prefers the underscore, which JMS
 * selectors can address. {@code datacontenttype} is the AMQP {@code content_type} property.
 */
public final class RabbitHeaders {

  /** Prefix of CloudEvents attributes. */
  public static final String CLOUD_EVENTS_PREFIX = "cloudEvents_";

  /** CloudEvents {@code specversion}, always {@value #SPEC_VERSION_VALUE}. */
  public static final String SPEC_VERSION = CLOUD_EVENTS_PREFIX + "specversion";

  /** The CloudEvents version the messages follow. */
  public static final String SPEC_VERSION_VALUE = "1.0";

  /** CloudEvents {@code id}: the outbox event id, as the AMQP {@code message_id}. */
  public static final String ID = CLOUD_EVENTS_PREFIX + "id";

  /** CloudEvents {@code source}: the configured source, by default the application name. */
  public static final String SOURCE = CLOUD_EVENTS_PREFIX + "source";

  /** CloudEvents {@code type}: the event type, as the AMQP {@code type} property. */
  public static final String TYPE = CLOUD_EVENTS_PREFIX + "type";

  /** CloudEvents {@code time}: when the event was written, RFC 3339. */
  public static final String TIME = CLOUD_EVENTS_PREFIX + "time";

  /** CloudEvents {@code subject}: the event key (aggregate id), absent for unkeyed events. */
  public static final String SUBJECT = CLOUD_EVENTS_PREFIX + "subject";

  /** CloudEvents extension {@code eventversion}: the version of the event type's schema. */
  public static final String EVENT_VERSION = CLOUD_EVENTS_PREFIX + "eventversion";

  /** CloudEvents extension {@code aggregatetype}: the aggregate type, when the event has one. */
  public static final String AGGREGATE_TYPE = CLOUD_EVENTS_PREFIX + "aggregatetype";

  /** Dead letters: the exchange the event was meant for (empty for the default exchange). */
  public static final String ORIGINAL_EXCHANGE = "x-outbox-original-exchange";

  /** Dead letters: the routing key the event was meant for. */
  public static final String ORIGINAL_ROUTING_KEY = "x-outbox-original-routing-key";

  /** Dead letters: the event's destination as written, {@code exchange[:routing-key]}. */
  public static final String ORIGINAL_DESTINATION = "x-outbox-original-destination";

  /** Dead letters: the last error message. */
  public static final String ERROR = "x-outbox-error";

  /** Dead letters: the class name of the last error. */
  public static final String ERROR_CLASS = "x-outbox-error-class";

  /** Dead letters: the delivery attempts made, an integer. */
  public static final String ATTEMPTS = "x-outbox-attempts";

  /** Dead letters: when the event was dead-lettered, RFC 3339. */
  public static final String DEAD_LETTERED_AT = "x-outbox-dead-lettered-at";

  private RabbitHeaders() {}
}
