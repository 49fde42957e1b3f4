package dev.outbox.testing;

import dev.outbox.relay.OutboxRelay;
import dev.outbox.spring.OutboxAutoConfiguration;
import dev.outbox.spring.OutboxRelayControl;
import dev.outbox.store.TableName;
import dev.outbox.transport.OutboxTransport;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/** The {@link OutboxTestKit} bean, wherever the outbox is configured. */
@AutoConfiguration(after = OutboxAutoConfiguration.class)
@ConditionalOnBean({DataSource.class, TableName.class})
@EnableConfigurationProperties(OutboxTestProperties.class)
public class OutboxTestKitAutoConfiguration {

  @Bean
  @ConditionalOnMissingBean
  OutboxTable outboxTable(DataSource dataSource, TableName outboxTableName) {
    return new OutboxTable(dataSource, outboxTableName);
  }

  @Bean
  @ConditionalOnMissingBean
  OutboxTestKit outboxTestKit(
      OutboxTable outboxTable,
      ObjectProvider<OutboxRelay> relay,
      ObjectProvider<OutboxRelayControl> relayControl,
      ObjectProvider<OutboxTransport> transport,
      OutboxTestProperties properties) {
    OutboxRelayControl control =
        relay.getIfAvailable() == null ? null : relayControl.getIfAvailable();
    return new OutboxTestKit(
        outboxTable, control, capturing(transport.getIfUnique()), properties.getDrainTimeout());
  }

  private static @Nullable CapturingOutboxTransport capturing(@Nullable OutboxTransport transport) {
    if (transport instanceof DuplicatingOutboxTransport duplicating) {
      transport = duplicating.delegate();
    }
    return transport instanceof CapturingOutboxTransport capturing ? capturing : null;
  }
}
