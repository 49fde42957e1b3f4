package dev.outbox.inbox;

import dev.outbox.OutboxException;
import java.util.Objects;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The validated, optionally schema-qualified name of the inbox table. Only lower-case SQL
 * identifiers are accepted, so the name can be placed in SQL text without quoting.
 *
 * @param schema the schema, or {@code null} for the connection's search path
 * @param table the table
 */
public record InboxTable(@Nullable String schema, String table) {

  private static final Pattern IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

  public InboxTable {
    Objects.requireNonNull(table, "table");
    if (schema != null && schema.isEmpty()) {
      schema = null;
    }
    check("schema", "outbox.inbox.table.schema", schema);
    check("table", "outbox.inbox.table.name", table);
  }

  public static InboxTable of(@Nullable String schema, String table) {
    return new InboxTable(schema, table);
  }

  private static void check(String what, String property, @Nullable String value) {
    if (value != null && !IDENTIFIER.matcher(value).matches()) {
      throw new OutboxException(
          "Invalid inbox "
              + what
              + " name '"
              + value
              + "': use a lower-case SQL identifier matching "
              + IDENTIFIER.pattern()
              + " (set "
              + property
              + ")");
    }
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
