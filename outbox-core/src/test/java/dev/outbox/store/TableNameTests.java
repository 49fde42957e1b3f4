package dev.outbox.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.OutboxException;
import org.junit.jupiter.api.Test;

class TableNameTests {

  @Test
  void acceptsLowerCaseIdentifiersWithOptionalSchema() {
    assertThat(TableName.of(null, "outbox_event").qualified()).isEqualTo("outbox_event");
    assertThat(TableName.of("", "outbox_event").qualified()).isEqualTo("outbox_event");
    assertThat(TableName.of("orders", "outbox_2").qualified()).isEqualTo("orders.outbox_2");
  }

  @Test
  void rejectsAnythingThatIsNotAPlainIdentifier() {
    for (String bad :
        new String[] {"Outbox", "outbox event", "outbox;drop", "1outbox", "a.b", "\"x\"", ""}) {
      assertThatThrownBy(() -> TableName.of(null, bad))
          .as(bad)
          .isInstanceOf(OutboxException.class)
          .hasMessageContaining("Invalid outbox table name")
          .hasMessageContaining("outbox.table.name");
    }
    assertThatThrownBy(() -> TableName.of("pub lic", "outbox_event"))
        .hasMessageContaining("Invalid outbox schema name 'pub lic'");
    assertThatThrownBy(() -> TableName.of(null, "a".repeat(64)))
        .isInstanceOf(OutboxException.class);
  }
}
