package dev.outbox.spring;

import dev.outbox.test.TestPostgres;
import org.springframework.test.context.DynamicPropertyRegistry;

/** Points a Spring test context at a fresh schema of the real test PostgreSQL. */
final class PostgresSchemas {

  private PostgresSchemas() {}

  static String urlFor(String schema) {
    String url = TestPostgres.get().url();
    return url + (url.contains("?") ? "&" : "?") + "currentSchema=" + schema;
  }

  static void register(DynamicPropertyRegistry registry, String schema) {
    registry.add("spring.datasource.url", () -> urlFor(schema));
    registry.add("spring.datasource.username", () -> TestPostgres.get().user());
    registry.add("spring.datasource.password", () -> TestPostgres.get().password());
    registry.add("outbox.table.schema", () -> schema);
  }
}
