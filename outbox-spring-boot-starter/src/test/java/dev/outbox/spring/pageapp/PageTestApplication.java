package dev.outbox.spring.pageapp;

import dev.outbox.spring.RecordingTransport;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;

/** A web application with the outbox, Actuator and a relay that publishes to memory. */
@SpringBootApplication
public class PageTestApplication {

  @Bean
  RecordingTransport recordingTransport() {
    return new RecordingTransport();
  }
}
