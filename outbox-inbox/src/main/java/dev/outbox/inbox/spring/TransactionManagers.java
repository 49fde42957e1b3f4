package dev.outbox.inbox.spring;

import dev.outbox.OutboxException;
import java.util.List;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.ResourceTransactionManager;
import org.springframework.util.ClassUtils;

/**
 * Picks the transaction manager the inbox starts transactions with: the only one, else the primary
 * one, else the only one that manages the inbox's {@link DataSource} (JDBC or JPA) — so a {@code
 * KafkaTransactionManager} next to the database's does not get in the way. One that manages another
 * resource is never picked: its transactions would not include the inbox record.
 */
final class TransactionManagers {

  private static final ClassLoader LOADER = TransactionManagers.class.getClassLoader();
  private static final boolean JPA =
      ClassUtils.isPresent("org.springframework.orm.jpa.JpaTransactionManager", LOADER);
  private static final boolean KAFKA =
      ClassUtils.isPresent(
          "org.springframework.kafka.transaction.KafkaAwareTransactionManager", LOADER);
  private static final boolean HIBERNATE =
      ClassUtils.isPresent(
              "org.springframework.orm.jpa.hibernate.HibernateTransactionManager", LOADER)
          && ClassUtils.isPresent("org.hibernate.SessionFactory", LOADER);

  private TransactionManagers() {}

  /**
   * @return the manager, or {@code null} if there is none, or several and none is primary or the
   *     only one on {@code dataSource}
   * @throws OutboxException if the only (or the primary) manager manages another resource and none
   *     manages {@code dataSource}
   */
  static @Nullable PlatformTransactionManager forDataSource(
      ObjectProvider<PlatformTransactionManager> managers, DataSource dataSource) {
    PlatformTransactionManager unique = managers.getIfUnique();
    if (unique != null && !managesAnother(unique, dataSource)) {
      return unique;
    }
    List<PlatformTransactionManager> onDataSource =
        managers.orderedStream().filter(manager -> manages(manager, dataSource)).toList();
    if (onDataSource.size() == 1) {
      return onDataSource.get(0);
    }
    if (unique != null) {
      throw new OutboxException(
          "The inbox needs a transaction manager for its DataSource "
              + dataSource
              + ", but the application's transaction manager "
              + unique.getClass().getName()
              + " manages "
              + resource(unique)
              + ": the inbox record would be written outside its transactions. Define a"
              + " DataSourceTransactionManager or JpaTransactionManager for that DataSource"
              + " (Spring Boot backs off from its own when the application defines any transaction"
              + " manager).");
    }
    return null;
  }

  /**
   * Whether {@code manager} is known to manage a resource other than {@code dataSource}: a Kafka
   * producer factory, another data source. A manager not bound to one resource (JTA, or one that
   * chains others) is not; the inbox checks its transactions when it starts one.
   */
  static boolean managesAnother(PlatformTransactionManager manager, DataSource dataSource) {
    return (manager instanceof ResourceTransactionManager || (KAFKA && Kafka.manages(manager)))
        && !manages(manager, dataSource);
  }

  private static @Nullable Object resource(PlatformTransactionManager manager) {
    if (manager instanceof ResourceTransactionManager resources) {
      return resources.getResourceFactory();
    }
    return KAFKA ? Kafka.producerFactory(manager) : null;
  }

  private static boolean manages(PlatformTransactionManager manager, DataSource dataSource) {
    if (manager instanceof DataSourceTransactionManager jdbc) {
      return jdbc.getDataSource() == dataSource;
    }
    return (JPA && Jpa.manages(manager, dataSource))
        || (HIBERNATE && Hibernate.manages(manager, dataSource));
  }

  /** Loaded only when Spring ORM is present. */
  private static final class Jpa {
    static boolean manages(PlatformTransactionManager manager, DataSource dataSource) {
      return manager instanceof org.springframework.orm.jpa.JpaTransactionManager jpa
          && jpa.getDataSource() == dataSource;
    }
  }

  /** Loaded only when Spring Kafka is present. */
  private static final class Kafka {
    static boolean manages(PlatformTransactionManager manager) {
      return manager instanceof org.springframework.kafka.transaction.KafkaAwareTransactionManager;
    }

    static @Nullable Object producerFactory(PlatformTransactionManager manager) {
      return manager
              instanceof
              org.springframework.kafka.transaction.KafkaAwareTransactionManager<?, ?> kafka
          ? kafka.getProducerFactory()
          : null;
    }
  }

  /** Loaded only when Spring ORM and Hibernate are present. */
  private static final class Hibernate {
    static boolean manages(PlatformTransactionManager manager, DataSource dataSource) {
      return manager
              instanceof org.springframework.orm.jpa.hibernate.HibernateTransactionManager hibernate
          && hibernate.getDataSource() == dataSource;
    }
  }
}
