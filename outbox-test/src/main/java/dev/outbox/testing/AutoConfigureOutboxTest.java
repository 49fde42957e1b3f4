package dev.outbox.testing;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.test.context.PropertyMapping;

/**
 * Puts the outbox test kit in a Spring Boot test: by default the relay publishes to an in-memory
 * {@link CapturingOutboxTransport} instead of the broker, and an {@link OutboxTestKit} bean reads
 * what was published or is still in the table and drains on demand.
 *
 * <pre>{@code
 * @SpringBootTest
 * @AutoConfigureOutboxTest                                        // no broker needed
 * @AutoConfigureOutboxTest(capture = false, duplicateCopies = 2)  // real broker, every event twice
 * }</pre>
 *
 * Each attribute sets an {@code outbox.test.*} property; left at its default, the property from the
 * test's configuration applies.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ImportAutoConfiguration
@PropertyMapping(value = "outbox.test", skip = PropertyMapping.Skip.ON_DEFAULT_VALUE)
public @interface AutoConfigureOutboxTest {

  /**
   * Whether the relay publishes to the capturing transport ({@code true}) or through the
   * application's real transport to the broker ({@code false}). Property {@code
   * outbox.test.capture}.
   */
  boolean capture() default true;

  /**
   * How many times every event is delivered, with the same id: 2 to 10 to test that consumers are
   * idempotent. Property {@code outbox.test.duplicate-copies}.
   */
  int duplicateCopies() default 1;

  /**
   * How long after the first delivery the duplicates follow, e.g. {@code "500ms"}; {@code "0ms"}
   * sends them at once. Property {@code outbox.test.duplicate-delay}.
   */
  String duplicateDelay() default "0ms";

  /**
   * How long {@link OutboxTestKit#drain()} waits, e.g. {@code "10s"}. Property {@code
   * outbox.test.drain-timeout}.
   */
  String drainTimeout() default "30s";
}
