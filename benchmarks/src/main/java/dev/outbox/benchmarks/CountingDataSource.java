package dev.outbox.benchmarks;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;

/**
 * A {@link DataSource} that counts the statements executed and the transactions committed through
 * it, for the idle-cost case (B5): pg_stat_statements is not preloaded on this server, and a count
 * taken in the client is exact per instance.
 */
final class CountingDataSource {

  final AtomicLong statements = new AtomicLong();
  final AtomicLong commits = new AtomicLong();
  final AtomicLong rollbacks = new AtomicLong();
  final DataSource dataSource;

  CountingDataSource(DataSource target) {
    dataSource =
        (DataSource)
            Proxy.newProxyInstance(
                DataSource.class.getClassLoader(),
                new Class<?>[] {DataSource.class},
                handler(
                    target,
                    (method, result) ->
                        method.getName().equals("getConnection")
                            ? connection((Connection) result)
                            : result));
  }

  private Connection connection(Connection target) {
    return (Connection)
        Proxy.newProxyInstance(
            Connection.class.getClassLoader(),
            new Class<?>[] {Connection.class},
            handler(
                target,
                (method, result) -> {
                  String name = method.getName();
                  if (name.equals("commit")) {
                    commits.incrementAndGet();
                  } else if (name.equals("rollback")) {
                    rollbacks.incrementAndGet();
                  }
                  if (result instanceof Statement statement
                      && (name.equals("prepareStatement")
                          || name.equals("createStatement")
                          || name.equals("prepareCall"))) {
                    return statement(statement, method.getReturnType());
                  }
                  return result;
                }));
  }

  private Object statement(Statement target, Class<?> type) {
    return Proxy.newProxyInstance(
        Statement.class.getClassLoader(),
        new Class<?>[] {type},
        handler(
            target,
            (method, result) -> {
              if (method.getName().startsWith("execute")) {
                statements.incrementAndGet();
              }
              return result;
            }));
  }

  private interface After {
    Object apply(Method method, Object result) throws Exception;
  }

  private static InvocationHandler handler(Object target, After after) {
    return (proxy, method, args) -> {
      try {
        Object result = method.invoke(target, args);
        return after.apply(method, result);
      } catch (InvocationTargetException ex) {
        throw ex.getCause();
      }
    };
  }
}
