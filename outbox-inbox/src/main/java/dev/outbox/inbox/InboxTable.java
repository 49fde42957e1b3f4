package dev.outbox.inbox;

import dev.outbox.store.TableName;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The validated, optionally schema-qualified name of the inbox table. Only lower-case SQL
 * identifiers are accepted, as for the outbox table ({@link TableName}), so the name can be placed
 * in SQL text without quoting.
 *
 * @param schema the schema, or {@code null} for the connection's search path
 * @param table the table
 */
public record InboxTable(@Nullable String schema, String table) {

  public InboxTable {
    Objects.requireNonNull(table, "table");
    if (schema != null && schema.isEmpty()) {
      schema = null;
    }
    TableName.requireIdentifier("inbox schema", "outbox.inbox.table.schema", schema);
    TableName.requireIdentifier("inbox table", "outbox.inbox.table.name", table);
  }

  public static InboxTable of(@Nullable String schema, String table) {
    return new InboxTable(schema, table);
  }

  /** The name as it appears in SQL: {@code schema.table} or {@code table}. */
  public String qualified() {
    return schema == null ? table : schema + "." + table;
  }

  @Override
  public String toString() {
    return qualified();
  }
}
