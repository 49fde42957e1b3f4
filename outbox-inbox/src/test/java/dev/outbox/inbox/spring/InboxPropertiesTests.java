package dev.outbox.inbox.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.jayway.jsonpath.JsonPath;
import dev.outbox.OutboxException;
import dev.outbox.inbox.InboxDefaults;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.boot.convert.DurationStyle;

/** The defaults are defined once, in {@link InboxDefaults}; properties and metadata agree. */
class InboxPropertiesTests {

  @Test
  void propertiesStartFromTheDefaults() {
    InboxProperties properties = new InboxProperties();
    assertThat(properties.getTable().getName()).isEqualTo(InboxDefaults.TABLE);
    assertThat(properties.getRetention()).isEqualTo(InboxDefaults.RETENTION);
    assertThat(properties.getCleanupInterval()).isEqualTo(InboxDefaults.CLEANUP_INTERVAL);
    assertThat(properties.getCleanupBatchSize()).isEqualTo(InboxDefaults.CLEANUP_BATCH_SIZE);
    assertThat(properties.getMigration().isEnabled()).isTrue();
  }

  @Test
  void metadataDocumentsTheSameDefaults() throws Exception {
    String metadata;
    try (InputStream in =
        InboxProperties.class.getResourceAsStream(
            "/META-INF/additional-spring-configuration-metadata.json")) {
      assertThat(in).isNotNull();
      metadata = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertThat(value(metadata, "outbox.inbox.table.name")).isEqualTo(InboxDefaults.TABLE);
    assertThat(DurationStyle.detectAndParse((String) value(metadata, "outbox.inbox.retention")))
        .isEqualTo(InboxDefaults.RETENTION);
    assertThat(
            DurationStyle.detectAndParse((String) value(metadata, "outbox.inbox.cleanup-interval")))
        .isEqualTo(InboxDefaults.CLEANUP_INTERVAL);
    assertThat(((Number) value(metadata, "outbox.inbox.cleanup-batch-size")).intValue())
        .isEqualTo(InboxDefaults.CLEANUP_BATCH_SIZE);
  }

  @Test
  void outOfRangeValuesAreRejectedNamingTheProperty() {
    InboxProperties properties = new InboxProperties();
    assertThatThrownBy(() -> properties.setRetention(Duration.ofSeconds(-1)))
        .isInstanceOf(OutboxException.class)
        .hasMessage("outbox.inbox.retention must be positive; got PT-1S");
    assertThatThrownBy(() -> properties.setCleanupInterval(Duration.ZERO))
        .isInstanceOf(OutboxException.class)
        .hasMessage("outbox.inbox.cleanup-interval must be at least 1ms; got PT0S");
    assertThatThrownBy(() -> properties.setCleanupBatchSize(0))
        .isInstanceOf(OutboxException.class)
        .hasMessage("outbox.inbox.cleanup-batch-size must be between 1 and 100000; got 0");
  }

  private static Object value(String metadata, String name) {
    List<Object> values =
        JsonPath.read(metadata, "$.properties[?(@.name == '" + name + "')].defaultValue");
    assertThat(values).as(name).hasSize(1);
    return values.get(0);
  }
}
