package dev.outbox.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.transport.OutboxTransport;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class DuplicatingOutboxTransportForwardingTests {

  /**
   * A default method of the SPI left unforwarded would answer with its default, not the real one.
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
      DuplicatingOutboxTransport.class.getDeclaredMethod(
          method.getName(), method.getParameterTypes());
      return true;
    } catch (NoSuchMethodException ex) {
      return false;
    }
  }
}
