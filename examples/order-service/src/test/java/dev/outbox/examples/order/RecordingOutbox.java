package dev.outbox.examples.order;

import dev.outbox.Outbox;
import dev.outbox.OutboxMessage;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;

/**
 * Wraps the application's {@link Outbox} and records the id the outbox returned for each event it
 * wrote: the primary key of the event's row in the outbox table.
 */
final class RecordingOutbox implements Outbox {

  /** One written event: its outbox row id and its key. */
  record Written(UUID id, String destination, String key) {}

  private final Outbox delegate;
  private final List<Written> written = new CopyOnWriteArrayList<>();

  RecordingOutbox(Outbox delegate) {
    this.delegate = delegate;
  }

  @Override
  public List<UUID> publishAll(List<OutboxMessage> messages) {
    List<UUID> ids = delegate.publishAll(messages);
    for (int i = 0; i < ids.size(); i++) {
      OutboxMessage message = messages.get(i);
      written.add(new Written(ids.get(i), message.destination(), message.key()));
    }
    return ids;
  }

  List<Written> written() {
    return List.copyOf(written);
  }

  /** Installs the recorder around the auto-configured {@link Outbox}. */
  @TestConfiguration(proxyBeanMethods = false)
  static class Installer {

    @Bean
    static BeanPostProcessor recordingOutboxInstaller() {
      return new BeanPostProcessor() {
        @Override
        public Object postProcessAfterInitialization(Object bean, String beanName) {
          return bean instanceof Outbox outbox && !(bean instanceof RecordingOutbox)
              ? new RecordingOutbox(outbox)
              : bean;
        }
      };
    }
  }
}
