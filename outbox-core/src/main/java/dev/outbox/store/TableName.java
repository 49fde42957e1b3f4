package dev.outbox.store;

import dev.outbox.OutboxException;
import java.util.Objects;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * A validated, optionally schema-qualified table name. Only lower-case SQL identifiers are
 * accepted, so the name can be placed in SQL text without quoting or injection risk.
 *
 * @param schema the schema, or {@code null} for the connection's search path
 * @param table the table
 */
public record TableName(@Nullable String schema, String table) {

  private static final Pattern IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

  /** The default table, {@value}. */
  public static final String DEFAULT_TABLE = "outbox_event";

  public TableName {
    Objects.requireNonNull(table, "table");
    if (schema != null && schema.isEmpty()) {
      schema = null;
    }
    requireIdentifier("outbox schema", "outbox.table.schema", schema);
    requireIdentifier("outbox table", "outbox.table.name", table);
  }

  public static TableName of(@Nullable String schema, String table) {
    return new TableName(schema, table);
  }

  /**
   * Fails unless the name is a lower-case SQL identifier (or absent); shared by the library's other
   * tables (the inbox).
   *
   * @param what what the name names, for the message (e.g. {@code outbox schema})
   * @param property the configuration property that sets it, for the message
   * @param value the name, or {@code null}
   * @throws OutboxException naming the value, the accepted pattern and the property
   */
  public static void requireIdentifier(String what, String property, @Nullable String value) {
    if (value != null && !IDENTIFIER.matcher(value).matches()) {
      throw new OutboxException(
          "Invalid "
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
