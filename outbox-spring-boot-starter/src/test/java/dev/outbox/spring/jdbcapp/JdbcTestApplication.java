package dev.outbox.spring.jdbcapp;

import dev.outbox.spring.RecordingTransport;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;

/** A JDBC-only service: DataSourceTransactionManager and JdbcClient, no JPA. */
@SpringBootApplication(
    excludeName = {
      "org.springframework.boot.hibernate.autoconfigure.HibernateJpaAutoConfiguration",
      "org.springframework.boot.data.jpa.autoconfigure.DataJpaRepositoriesAutoConfiguration"
    })
public class JdbcTestApplication {

  @Bean
  RecordingTransport recordingTransport() {
    return new RecordingTransport();
  }
}
