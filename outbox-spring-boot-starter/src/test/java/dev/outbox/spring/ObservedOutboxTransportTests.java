package dev.outbox.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.transport.OutboxTransport;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ObservedOutboxTransportTests {

  /**
   * A default method added to the transport SPI later would otherwise silently answer with its
   * default instead of the real transport's value (Kafka's {@code maxBlock()}, for one).
   */
  @Test
  void forwardsEveryMethodOfTheTransportInterface() {
    List<String> notForwarded =
        Arrays.stream(OutboxTransport.class.getMethods())
            .filter(method -> !Modifier.isStatic(method.getModifiers()))
            .filter(method -> !declares(method))
            .map(Method::toGenericString)
            .toList();
    assertThat(notForwarded).isEmpty();
  }

  private static boolean declares(Method method) {
    try {
      ObservedOutboxTransport.class.getDeclaredMethod(method.getName(), method.getParameterTypes());
      return true;
    } catch (NoSuchMethodException ex) {
      return false;
    }
  }
}
