package dev.outbox.spring;

import static org.assertj.core.api.Assertions.assertThat;

import com.jayway.jsonpath.JsonPath;
import dev.outbox.relay.OutboxDefaults;
import dev.outbox.store.TableName;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.boot.convert.DurationStyle;

/** The defaults are defined once, in core; the properties and the IDE metadata must agree. */
class OutboxPropertiesTests {

  @Test
  void propertiesStartFromTheCoreDefaults() {
    OutboxProperties properties = new OutboxProperties();
    assertThat(properties.getTable().getName()).isEqualTo(TableName.DEFAULT_TABLE);
    assertThat(properties.getRelay().getBatchSize()).isEqualTo(OutboxDefaults.BATCH_SIZE);
    assertThat(properties.getRelay().getPublishTimeout()).isEqualTo(OutboxDefaults.PUBLISH_TIMEOUT);
    assertThat(properties.getRelay().getMaxErrorBackoff())
        .isEqualTo(OutboxDefaults.MAX_ERROR_BACKOFF);
    assertThat(properties.getRetry().toPolicy()).isEqualTo(dev.outbox.relay.RetryPolicy.defaults());
    assertThat(properties.getHealth().getProblemStatus())
        .isEqualTo(OutboxDefaults.HEALTH_PROBLEM_STATUS);
    assertThat(properties.getHealth().getCacheTimeToLive())
        .isEqualTo(OutboxDefaults.HEALTH_CACHE_TIME_TO_LIVE);
    assertThat(properties.getHealth().getMaxDead()).isNull();
    assertThat(properties.getDead().getRetention()).isNull();
    assertThat(properties.getDead().getPurgeInterval())
        .isEqualTo(OutboxDefaults.DEAD_PURGE_INTERVAL);
    assertThat(properties.getDead().getPurgeBatchSize())
        .isEqualTo(OutboxDefaults.DEAD_PURGE_BATCH_SIZE);
  }

  @Test
  void metadataDocumentsTheSameDefaults() throws Exception {
    String metadata;
    try (InputStream in =
        getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
      assertThat(in).isNotNull();
      metadata = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertThat(text(metadata, "outbox.table.name")).isEqualTo(TableName.DEFAULT_TABLE);
    assertThat(number(metadata, "outbox.relay.batch-size")).isEqualTo(OutboxDefaults.BATCH_SIZE);
    assertThat(number(metadata, "outbox.relay.workers")).isEqualTo(OutboxDefaults.WORKERS);
    assertThat(duration(metadata, "outbox.relay.poll-interval"))
        .isEqualTo(OutboxDefaults.POLL_INTERVAL);
    assertThat(duration(metadata, "outbox.relay.publish-timeout"))
        .isEqualTo(OutboxDefaults.PUBLISH_TIMEOUT);
    assertThat(duration(metadata, "outbox.relay.max-error-backoff"))
        .isEqualTo(OutboxDefaults.MAX_ERROR_BACKOFF);
    assertThat(duration(metadata, "outbox.relay.shutdown-timeout"))
        .isEqualTo(OutboxDefaults.SHUTDOWN_TIMEOUT);
    assertThat(value(metadata, "outbox.relay.dead-event-blocks-key"))
        .isEqualTo(OutboxDefaults.DEAD_EVENT_BLOCKS_KEY);
    assertThat(number(metadata, "outbox.retry.max-attempts"))
        .isEqualTo(OutboxDefaults.MAX_ATTEMPTS);
    assertThat(duration(metadata, "outbox.retry.initial-backoff"))
        .isEqualTo(OutboxDefaults.INITIAL_BACKOFF);
    assertThat(((Number) value(metadata, "outbox.retry.multiplier")).doubleValue())
        .isEqualTo(OutboxDefaults.BACKOFF_MULTIPLIER);
    assertThat(duration(metadata, "outbox.retry.max-backoff"))
        .isEqualTo(OutboxDefaults.MAX_BACKOFF);
    assertThat(((Number) value(metadata, "outbox.retry.jitter")).doubleValue())
        .isEqualTo(OutboxDefaults.JITTER);
    assertThat(duration(metadata, "outbox.retry.max-age")).isEqualTo(OutboxDefaults.MAX_AGE);
    assertThat(duration(metadata, "outbox.health.max-pending-age"))
        .isEqualTo(OutboxDefaults.HEALTH_MAX_PENDING_AGE);
    assertThat(text(metadata, "outbox.health.problem-status"))
        .isEqualTo(OutboxDefaults.HEALTH_PROBLEM_STATUS);
    assertThat(text(metadata, "outbox.health.relay-failure-status"))
        .isEqualTo(OutboxDefaults.HEALTH_RELAY_FAILURE_STATUS);
    assertThat(duration(metadata, "outbox.health.cache-time-to-live"))
        .isEqualTo(OutboxDefaults.HEALTH_CACHE_TIME_TO_LIVE);
    assertThat(duration(metadata, "outbox.dead.purge-interval"))
        .isEqualTo(OutboxDefaults.DEAD_PURGE_INTERVAL);
    assertThat(number(metadata, "outbox.dead.purge-batch-size"))
        .isEqualTo(OutboxDefaults.DEAD_PURGE_BATCH_SIZE);
  }

  private static Object value(String metadata, String name) {
    List<Object> values =
        JsonPath.read(metadata, "$.properties[?(@.name == '" + name + "')].defaultValue");
    assertThat(values).as(name).hasSize(1);
    return values.get(0);
  }

  private static String text(String metadata, String name) {
    return (String) value(metadata, name);
  }

  private static int number(String metadata, String name) {
    return ((Number) value(metadata, name)).intValue();
  }

  private static Duration duration(String metadata, String name) {
    return DurationStyle.detectAndParse((String) value(metadata, name));
  }
}
