package dev.outbox.spring.app;

import dev.outbox.spring.RecordingTransport;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;

/** A small service for the starter's integration tests: JPA orders and JDBC stock. */
@SpringBootApplication
public class TestApplication {

  @Bean
  RecordingTransport recordingTransport() {
    return new RecordingTransport();
  }
}
