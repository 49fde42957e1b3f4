package dev.outbox;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Names the event type of a payload class and its version. Without this annotation the type is the
 * class's simple name and the version is 1. Use past-tense names: {@code OrderPlaced}.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface EventType {

  /** The event type name; empty means the class's simple name. */
  String name() default "";

  /** The schema version of the payload, starting at 1. */
  int version() default 1;
}
