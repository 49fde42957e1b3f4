package dev.outbox.spring.app;

/** A payload Jackson cannot serialize: its getter always throws. */
public class Unserializable {

  public String getValue() {
    throw new IllegalStateException("this payload cannot be read");
  }
}
