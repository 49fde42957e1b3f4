package dev.outbox;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Writes an event into the outbox when the annotated method returns, inside the same transaction as
 * the method's own writes.
 *
 * <p>The payload is the method's return value unless {@link #payload()} names another SpEL
 * expression. A returned {@link Iterable} or array yields one event per element, in order; an
 * {@link java.util.Optional} its value, if present. A {@code null} payload writes nothing. A method
 * whose result completes later (a {@code CompletableFuture}, a reactive publisher) cannot be its
 * own event and is refused before it runs. If no transaction is active on the outbox's data source,
 * one is started around the method (REQUIRED semantics), so the method's writes and its event
 * commit or roll back together. When the method joined its caller's transaction and its event
 * cannot be written, that transaction cannot commit either.
 *
 * <p>With the Spring Boot starter the annotation works through a Spring proxy, as
 * {@code @Transactional} does: a call from another method of the same object (self-invocation), or
 * to a {@code private} method, does not pass the proxy, and the method runs without writing its
 * event. Call it through another bean, or use the {@link Outbox} publisher.
 *
 * <p>Expressions see the method arguments by name ({@code #command}), as {@code #p0}/{@code #a0},
 * the return value as {@code #result} and, in {@link #key()}, the current element as {@code
 * #event}.
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface PublishEvent {

  /**
   * Where the event goes: a Kafka topic, or a RabbitMQ exchange (see the transport's docs). With
   * the Spring Boot starter it may hold {@code ${...}} property placeholders, resolved against the
   * application's environment; the ids of the events written are then available to the caller
   * through the starter's {@code PublishedEvents}.
   */
  String destination();

  /**
   * SpEL expression for the event key (the aggregate id). Events with the same key are delivered in
   * the order they were written. Empty means no key: such events are unordered. An expression that
   * evaluates to null fails the call.
   */
  String key() default "";

  /** SpEL expression for the payload; empty means the return value ({@code #result}). */
  String payload() default "";

  /** The aggregate type recorded with the event (for routing or CDC); empty means none. */
  String aggregateType() default "";
}
