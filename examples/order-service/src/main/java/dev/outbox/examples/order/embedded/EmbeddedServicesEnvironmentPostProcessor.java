package dev.outbox.examples.order.embedded;

import java.nio.file.Path;
import org.apache.commons.logging.Log;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.context.event.ApplicationFailedEvent;
import org.springframework.boot.logging.DeferredLogFactory;
import org.springframework.context.ApplicationListener;
import org.springframework.context.support.GenericApplicationContext;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Starts an embedded PostgreSQL when {@code spring.datasource.url} is not set, and an embedded
 * Kafka broker when {@code spring.kafka.bootstrap-servers} is not set and the Kafka transport is
 * enabled, then points Spring Boot's own properties at them. Set {@code
 * order-service.embedded.enabled=false} to never start them.
 *
 * <p>Runs after the configuration files (and profiles) are loaded, so a URL from any of Spring
 * Boot's property sources turns the embedded service off. The services are stopped when the
 * application context closes, or when startup fails.
 */
public final class EmbeddedServicesEnvironmentPostProcessor
    implements EnvironmentPostProcessor, Ordered {

  /** Switches the embedded services off altogether. */
  public static final String ENABLED = "order-service.embedded.enabled";

  /**
   * Where the embedded services keep their files: PostgreSQL's binaries (unpacked once) and the
   * data of each run, deleted when it stops. Default: {@code outbox-examples} in {@code
   * java.io.tmpdir}.
   */
  public static final String DIRECTORY = "order-service.embedded.directory";

  static final String PROPERTY_SOURCE = "orderServiceEmbeddedServices";

  private final Log log;

  public EmbeddedServicesEnvironmentPostProcessor(DeferredLogFactory logFactory) {
    this.log = logFactory.getLog(EmbeddedServices.class);
  }

  @Override
  public void postProcessEnvironment(
      ConfigurableEnvironment environment, SpringApplication application) {
    if (!environment.getProperty(ENABLED, Boolean.class, true)
        || environment.getPropertySources().contains(PROPERTY_SOURCE)) {
      return;
    }
    boolean needsPostgres = !environment.containsProperty("spring.datasource.url");
    boolean needsKafka =
        !environment.containsProperty("spring.kafka.bootstrap-servers")
            && environment.getProperty("outbox.kafka.enabled", Boolean.class, true);
    if (!needsPostgres && !needsKafka) {
      return;
    }
    EmbeddedServices services = new EmbeddedServices(log);
    try {
      if (needsPostgres) {
        services.startPostgres(directory(environment).resolve("postgres"));
      }
      if (needsKafka) {
        services.startKafka(directory(environment).resolve("kafka"));
      }
    } catch (RuntimeException ex) {
      services.close();
      throw ex;
    }
    environment
        .getPropertySources()
        .addFirst(new MapPropertySource(PROPERTY_SOURCE, services.properties()));
    application.addInitializers(
        context -> {
          if (!(context instanceof GenericApplicationContext generic)) {
            services.close();
            throw new IllegalStateException("Unexpected application context " + context);
          }
          // Closed with the context, after the beans created later (the data source, the relay).
          generic.registerBean(
              "orderServiceEmbeddedServices",
              EmbeddedServices.class,
              () -> services,
              definition -> definition.setDestroyMethodName("close"));
        });
    application.addListeners(new CloseOnFailure(services));
  }

  private static Path directory(ConfigurableEnvironment environment) {
    String configured = environment.getProperty(DIRECTORY);
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured);
    }
    return Path.of(System.getProperty("java.io.tmpdir"), "outbox-examples");
  }

  /** Stops the services when startup fails before the context could close them. */
  private record CloseOnFailure(EmbeddedServices services)
      implements ApplicationListener<ApplicationFailedEvent> {

    @Override
    public void onApplicationEvent(ApplicationFailedEvent event) {
      services.close();
    }
  }

  /** After the configuration files are loaded, so their settings count. */
  @Override
  public int getOrder() {
    return Ordered.LOWEST_PRECEDENCE;
  }
}
