package dev.outbox.testing;

import dev.outbox.test.TestPostgres;
import org.springframework.test.context.DynamicPropertyRegistry;

/** A fresh schema of the real test PostgreSQL, with the shop's table, for one test class. */
final class ShopDatabase {

  private ShopDatabase() {}

  static String create(String prefix) {
    String schema = TestPostgres.get().createSchema(prefix);
    TestPostgres.get()
        .execute("CREATE TABLE " + schema + ".shop_order (id text PRIMARY KEY, status text)");
    return schema;
  }

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
