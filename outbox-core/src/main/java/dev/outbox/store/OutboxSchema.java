package dev.outbox.store;

import dev.outbox.OutboxException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import javax.sql.DataSource;

/**
 * The DDL of the outbox table. The Spring starter applies the same scripts with Flyway; this class
 * serves plain-Java users and teams that own their DDL.
 */
public final class OutboxSchema {

  /** Classpath location of the versioned migrations (Flyway placeholders). */
  public static final String MIGRATIONS_LOCATION = "classpath:dev/outbox/db/migration/postgresql";

  /** The placeholder for the qualified table name in the migrations. */
  public static final String TABLE_PLACEHOLDER = "outbox_table";

  /** The placeholder for the bare table name (index names) in the migrations. */
  public static final String TABLE_NAME_PLACEHOLDER = "outbox_table_name";

  private static final List<String> SCRIPTS =
      List.of(
          "V1__create_outbox_event.sql",
          "V2__relay_slots.sql",
          "V3__event_constraints.sql",
          "V4__dead_event_time.sql");

  private OutboxSchema() {}

  /** The complete DDL for {@code table}, ready to run. */
  public static String ddl(TableName table) {
    StringBuilder ddl = new StringBuilder();
    if (table.schema() != null) {
      ddl.append("CREATE SCHEMA IF NOT EXISTS ").append(table.schema()).append(";\n");
    }
    for (String script : SCRIPTS) {
      ddl.append(read(script)).append('\n');
    }
    return ddl.toString()
        .replace("${" + TABLE_PLACEHOLDER + "}", table.qualified())
        .replace("${" + TABLE_NAME_PLACEHOLDER + "}", table.table());
  }

  /** Creates the table and its indexes in one transaction. */
  public static void create(DataSource dataSource, TableName table) {
    try (Connection connection = dataSource.getConnection();
        Statement statement = connection.createStatement()) {
      statement.execute(ddl(table));
    } catch (SQLException ex) {
      throw new OutboxException("Could not create the outbox table " + table, ex);
    }
  }

  private static String read(String script) {
    String path = "dev/outbox/db/migration/postgresql/" + script;
    try (InputStream in = OutboxSchema.class.getClassLoader().getResourceAsStream(path)) {
      if (in == null) {
        throw new OutboxException("Missing classpath resource " + path);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException ex) {
      throw new OutboxException("Could not read " + path, ex);
    }
  }
}
