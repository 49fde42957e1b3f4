package dev.outbox.inbox;

import dev.outbox.OutboxException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The DDL of the inbox table. The auto-configuration applies the same scripts with Flyway (history
 * table {@code <table>_schema_history}); {@link #ddl} serves teams that own their DDL.
 */
public final class InboxSchema {

  /** Classpath location of the versioned migrations (Flyway placeholders). */
  public static final String MIGRATIONS_LOCATION =
      "classpath:dev/outbox/inbox/db/migration/postgresql";

  /** The placeholder for the qualified table name in the migrations. */
  public static final String TABLE_PLACEHOLDER = "inbox_table";

  /** The placeholder for the bare table name (index names) in the migrations. */
  public static final String TABLE_NAME_PLACEHOLDER = "inbox_table_name";

  private static final List<String> SCRIPTS = List.of("V1__create_inbox.sql");

  private InboxSchema() {}

  /** The complete DDL for {@code table}, ready to run. */
  public static String ddl(InboxTable table) {
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

  private static String read(String script) {
    String path = "dev/outbox/inbox/db/migration/postgresql/" + script;
    try (InputStream in = InboxSchema.class.getClassLoader().getResourceAsStream(path)) {
      if (in == null) {
        throw new OutboxException("Missing classpath resource " + path);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException ex) {
      throw new OutboxException("Could not read " + path, ex);
    }
  }
}
