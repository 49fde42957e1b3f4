package dev.outbox.inbox.rabbit;

import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import java.util.UUID;

/** One stock change, with the message that caused it. */
@Entity
public class Reservation {

  @Id private UUID id;

  private String messageId;

  protected Reservation() {}

  public Reservation(String messageId) {
    this.id = UUID.randomUUID();
    this.messageId = messageId;
  }

  public String getMessageId() {
    return messageId;
  }
}
