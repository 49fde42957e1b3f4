package dev.outbox.benchmarks;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;

/**
 * Guards the benchmark's wrappers of library interfaces: a wrapper must forward every method,
 * including default methods added later on main (a forgotten {@code flush()} would silently change
 * what is measured).
 */
final class Delegation {

  private Delegation() {}

  static void requireAll(Class<?> api, Class<?> wrapper) {
    for (Method method : api.getMethods()) {
      if (Modifier.isStatic(method.getModifiers())) {
        continue;
      }
      try {
        wrapper.getDeclaredMethod(method.getName(), method.getParameterTypes());
      } catch (NoSuchMethodException ex) {
        throw new IllegalStateException(
            wrapper.getSimpleName()
                + " does not forward "
                + api.getSimpleName()
                + "."
                + method.getName()
                + "; add it so the benchmark measures the library as it is");
      }
    }
  }
}
