package dev.outbox.inbox.spring;

import java.util.List;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.util.ClassUtils;

/**
 * Picks the transaction manager the inbox starts transactions with: the only one, else the primary
 * one, else the only one that manages the inbox's {@link DataSource} (JDBC or JPA) — so a {@code
 * KafkaTransactionManager} next to the database's does not get in the way.
 */
final class TransactionManagers {

  private static final boolean JPA =
      ClassUtils.isPresent(
          "org.springframework.orm.jpa.JpaTransactionManager",
          TransactionManagers.class.getClassLoader());

  private TransactionManagers() {}

  static @Nullable PlatformTransactionManager forDataSource(
      ObjectProvider<PlatformTransactionManager> managers, DataSource dataSource) {
    PlatformTransactionManager unique = managers.getIfUnique();
    if (unique != null) {
      return unique;
    }
    List<PlatformTransactionManager> onDataSource =
        managers.orderedStream().filter(manager -> manages(manager, dataSource)).toList();
    return onDataSource.size() == 1 ? onDataSource.get(0) : null;
  }

  private static boolean manages(PlatformTransactionManager manager, DataSource dataSource) {
    if (manager instanceof DataSourceTransactionManager jdbc) {
      return jdbc.getDataSource() == dataSource;
    }
    return JPA && Jpa.manages(manager, dataSource);
  }

  /** Loaded only when Spring ORM is present. */
  private static final class Jpa {
    static boolean manages(PlatformTransactionManager manager, DataSource dataSource) {
      return manager instanceof org.springframework.orm.jpa.JpaTransactionManager jpa
          && jpa.getDataSource() == dataSource;
    }
  }
}
