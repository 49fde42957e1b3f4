package dev.outbox.testing;

import dev.outbox.Outbox;
import dev.outbox.relay.OutboxRelay;
import dev.outbox.spring.OutboxAutoConfiguration;
import dev.outbox.spring.OutboxRelayControl;
import dev.outbox.spring.SpringOutbox;
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

  /**
   * The table in the database the outbox writes to: a {@link SpringOutbox}'s own (an application
   * may define the outbox on a data source that is not the primary one, docs/faq.md), else the
   * unique or primary one.
   */
  @Bean
  @ConditionalOnMissingBean
  OutboxTable outboxTable(
      ObjectProvider<Outbox> outbox,
      ObjectProvider<DataSource> dataSource,
      TableName outboxTableName) {
    DataSource target =
        outbox.getIfUnique() instanceof SpringOutbox spring
            ? spring.dataSource()
            : dataSource.getObject();
    return new OutboxTable(target, outboxTableName);
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
