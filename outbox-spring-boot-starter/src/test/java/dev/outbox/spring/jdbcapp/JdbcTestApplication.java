package dev.outbox.spring.jdbcapp;

import dev.outbox.spring.RecordingTransport;
import dev.outbox.test.TestPostgres;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;

/** A JDBC-only service: DataSourceTransactionManager and JdbcClient, no JPA. */
@SpringBootApplication(
    excludeName = {
      "org.springframework.boot.hibernate.autoconfigure.HibernateJpaAutoConfiguration",
      "org.springframework.boot.data.jpa.autoconfigure.DataJpaRepositoriesAutoConfiguration"
    })
public class JdbcTestApplication {

  /** A fresh schema of the test database with the service's {@code payment} table in it. */
  public static String createSchema(String prefix) {
    String schema = TestPostgres.get().createSchema(prefix);
    TestPostgres.get()
        .execute("CREATE TABLE " + schema + ".payment (id text PRIMARY KEY, cents bigint)");
    return schema;
  }

  @Bean
  RecordingTransport recordingTransport() {
    return new RecordingTransport();
  }
}
