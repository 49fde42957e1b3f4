package dev.outbox.kafka.e2e;

/** A payload Jackson cannot serialize: its only property's getter throws. */
public class Unserializable {

  private final String orderId;

  public Unserializable(String orderId) {
    this.orderId = orderId;
  }

  public String orderId() {
    return orderId;
  }

  public String getSecret() {
    throw new IllegalStateException("the secret cannot be read");
  }
}
