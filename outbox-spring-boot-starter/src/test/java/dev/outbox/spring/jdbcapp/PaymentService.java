package dev.outbox.spring.jdbcapp;

import dev.outbox.PublishEvent;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Propagation;
import org.springframework.transaction.annotation.Transactional;

@Service
public class PaymentService {

  /** The event of a captured payment. */
  public record PaymentCaptured(String paymentId, long cents) {}

  private final JdbcClient jdbc;

  public PaymentService(JdbcClient jdbc) {
    this.jdbc = jdbc;
  }

  @Transactional
  @PublishEvent(destination = "payments", key = "#paymentId")
  public PaymentCaptured capture(String paymentId, long cents, boolean fail) {
    jdbc.sql("INSERT INTO payment (id, cents) VALUES (?, ?)").params(paymentId, cents).update();
    if (fail) {
      throw new IllegalStateException("card expired");
    }
    return new PaymentCaptured(paymentId, cents);
  }

  /** Captures in a transaction of its own, whatever its caller's. */
  @Transactional(propagation = Propagation.REQUIRES_NEW)
  @PublishEvent(destination = "payments", key = "#paymentId")
  public PaymentCaptured captureOnItsOwn(String paymentId, long cents) {
    jdbc.sql("INSERT INTO payment (id, cents) VALUES (?, ?)").params(paymentId, cents).update();
    return new PaymentCaptured(paymentId, cents);
  }
}
