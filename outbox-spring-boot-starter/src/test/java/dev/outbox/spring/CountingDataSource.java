package dev.outbox.spring;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import javax.sql.DataSource;

/** Wraps a data source and counts the statements prepared whose SQL matches a predicate. */
final class CountingDataSource {

  private final DataSource target;
  private final Predicate<String> counted;
  private final AtomicInteger count = new AtomicInteger();

  CountingDataSource(DataSource target, Predicate<String> counted) {
    this.target = target;
    this.counted = counted;
  }

  int count() {
    return count.get();
  }

  DataSource dataSource() {
    return (DataSource)
        Proxy.newProxyInstance(
            getClass().getClassLoader(),
            new Class<?>[] {DataSource.class},
            (proxy, method, args) -> {
              Object result = invoke(target, method, args);
              return result instanceof Connection connection ? connection(connection) : result;
            });
  }

  private Connection connection(Connection connection) {
    return (Connection)
        Proxy.newProxyInstance(
            getClass().getClassLoader(),
            new Class<?>[] {Connection.class},
            (proxy, method, args) -> {
              if ((method.getName().equals("prepareStatement")
                      || method.getName().equals("prepareCall"))
                  && args != null
                  && args[0] instanceof String sql
                  && counted.test(sql)) {
                count.incrementAndGet();
              }
              return invoke(connection, method, args);
            });
  }

  private static Object invoke(Object target, java.lang.reflect.Method method, Object[] args)
      throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException ex) {
      throw ex.getCause();
    }
  }
}
