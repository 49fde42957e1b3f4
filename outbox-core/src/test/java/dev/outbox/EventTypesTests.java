package dev.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.ref.WeakReference;
import java.net.URL;
import java.net.URLClassLoader;
import org.junit.jupiter.api.Test;

class EventTypesTests {

  record OrderShipped(String id) {}

  @EventType(name = "OrderPlaced", version = 3)
  record PlacedV3(String id) {}

  @EventType(version = 2)
  record OrderCancelled(String id) {}

  @EventType(version = 0)
  record Broken() {}

  @Test
  void defaultsToTheSimpleClassNameAndVersionOne() {
    assertThat(EventTypes.of(OrderShipped.class))
        .isEqualTo(new EventTypes.Resolved("OrderShipped", 1));
  }

  @Test
  void readsNameAndVersionFromTheAnnotation() {
    assertThat(EventTypes.of(PlacedV3.class)).isEqualTo(new EventTypes.Resolved("OrderPlaced", 3));
    assertThat(EventTypes.of(OrderCancelled.class))
        .isEqualTo(new EventTypes.Resolved("OrderCancelled", 2));
  }

  @Test
  void rejectsVersionZero() {
    assertThatThrownBy(() -> EventTypes.of(Broken.class))
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("version 0");
  }

  /** Loaded by a throwaway class loader in the test below. */
  record Unloadable(String id) {}

  /**
   * A payload class of a class loader the application discards (devtools restarts, redeployments)
   * does not stay loaded because its type was resolved: the resolution is held with the class, not
   * in a static map of the library's class loader.
   */
  @Test
  void aResolvedPayloadClassDoesNotKeepItsClassLoaderAlive() throws Exception {
    WeakReference<ClassLoader> loader = resolveInAThrowawayClassLoader();
    for (int collections = 0; collections < 10 && loader.get() != null; collections++) {
      System.gc();
    }
    assertThat(loader.get()).as("the throwaway class loader, after collections").isNull();
  }

  private static WeakReference<ClassLoader> resolveInAThrowawayClassLoader() throws Exception {
    URL testClasses = EventTypesTests.class.getProtectionDomain().getCodeSource().getLocation();
    URLClassLoader loader = new URLClassLoader(new URL[] {testClasses}, null);
    Class<?> payload = loader.loadClass(Unloadable.class.getName());
    assertThat(payload).isNotSameAs(Unloadable.class);
    assertThat(EventTypes.of(payload)).isEqualTo(new EventTypes.Resolved("Unloadable", 1));
    loader.close();
    return new WeakReference<>(loader);
  }

  @Test
  void messagesRequireADestination() {
    assertThatThrownBy(() -> OutboxMessage.of(" ", "k", "payload"))
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("destination");
  }
}
