package dev.outbox.kafka;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Closes a test class's static resources (broker, database schema) once everything else about the
 * class is done, including Spring's {@code @DirtiesContext} closing the application context. The
 * resource goes into the class's extension store, which JUnit closes after every after-all
 * callback, so the application never outlives the services it talks to.
 */
final class CloseAfterClass implements BeforeAllCallback {

  private final AutoCloseable resource;

  private CloseAfterClass(AutoCloseable resource) {
    this.resource = resource;
  }

  static CloseAfterClass of(AutoCloseable resource) {
    return new CloseAfterClass(resource);
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    context
        .getStore(ExtensionContext.Namespace.create(CloseAfterClass.class))
        .put(context.getRequiredTestClass().getName(), resource);
  }
}
