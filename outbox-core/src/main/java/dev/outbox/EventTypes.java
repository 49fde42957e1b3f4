package dev.outbox;

/** Resolves a payload class to its event type name and version, from {@link EventType}. */
public final class EventTypes {

  /** A resolved event type. */
  public record Resolved(String name, int version) {}

  /**
   * Resolved once per class, and held with the class rather than by a static map: a class whose
   * class loader is discarded (an application restarted by devtools, a redeployed web application)
   * is not kept alive by the library.
   */
  private static final ClassValue<Resolved> CACHE =
      new ClassValue<>() {
        @Override
        protected Resolved computeValue(Class<?> type) {
          return resolve(type);
        }
      };

  private EventTypes() {}

  public static Resolved of(Class<?> payloadType) {
    return CACHE.get(payloadType);
  }

  private static Resolved resolve(Class<?> type) {
    EventType annotation = type.getAnnotation(EventType.class);
    if (annotation == null) {
      return checked(new Resolved(type.getSimpleName(), 1), type);
    }
    if (annotation.version() < 1) {
      throw new OutboxException(
          "@EventType on " + type.getName() + " has version " + annotation.version() + "; use 1+");
    }
    String name = annotation.name().isBlank() ? type.getSimpleName() : annotation.name();
    return checked(new Resolved(name, annotation.version()), type);
  }

  /** The type name must be a name a broker carries: not blank, no control characters, short. */
  private static Resolved checked(Resolved resolved, Class<?> type) {
    String context = " (payload class " + type.getName() + ")";
    if (resolved.name().isBlank()) {
      throw new OutboxException(
          "Invalid event type ''"
              + context
              + ": blank (an anonymous class has no simple name); publish an instance of a named"
              + " class, or name the type with @EventType(name = ...)");
    }
    EventLimits.checkName("event type", resolved.name(), context);
    return resolved;
  }
}
