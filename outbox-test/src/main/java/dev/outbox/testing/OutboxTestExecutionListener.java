package dev.outbox.testing;

import org.springframework.test.context.TestContext;
import org.springframework.test.context.support.AbstractTestExecutionListener;

/**
 * Starts each test method with an empty capture: publishes what earlier tests left committed, then
 * forgets what the {@link CapturingOutboxTransport} captured. Acts only on application contexts
 * that have an {@link OutboxTestKit}.
 */
public class OutboxTestExecutionListener extends AbstractTestExecutionListener {

  /** After dependency injection, before {@code @BeforeEach} methods run. */
  @Override
  public int getOrder() {
    return 3100;
  }

  @Override
  public void beforeTestMethod(TestContext testContext) {
    if (!testContext.hasApplicationContext()) {
      return;
    }
    testContext
        .getApplicationContext()
        .getBeanProvider(OutboxTestKit.class)
        .ifAvailable(OutboxTestKit::reset);
  }
}
