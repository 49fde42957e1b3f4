package dev.outbox.inbox.spring;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.OutboxException;
import java.lang.reflect.Method;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.junit.jupiter.api.Test;
import org.springframework.messaging.Message;

/** Which parameters only a batch listener takes. */
class BatchListenersTests {

  @SuppressWarnings("unused")
  static class Listeners {
    public void records(List<ConsumerRecord<String, String>> records) {}

    public void consumerRecords(ConsumerRecords<String, String> records) {}

    public void messages(List<Message<String>> messages) {}

    public void record(ConsumerRecord<String, String> record) {}

    public void jsonArray(List<String> items, Message<List<String>> message) {}
  }

  private static Method method(String name) {
    for (Method method : Listeners.class.getMethods()) {
      if (method.getName().equals(name)) {
        return method;
      }
    }
    throw new IllegalArgumentException(name);
  }

  @Test
  void batchParametersAreRefusedNamingTheMethod() {
    for (String name : List.of("records", "consumerRecords", "messages")) {
      assertThatThrownBy(() -> BatchListeners.refuseBatchParameters(method(name)))
          .isInstanceOf(OutboxException.class)
          .hasMessageContaining("Listeners." + name + "(")
          .hasMessageContaining("is a batch listener: batch listeners are not supported");
    }
  }

  @Test
  void recordListenerParametersPass() {
    for (String name : List.of("record", "jsonArray")) {
      assertThatCode(() -> BatchListeners.refuseBatchParameters(method(name)))
          .doesNotThrowAnyException();
    }
  }
}
