package dev.outbox.inbox.rabbit;

import org.springframework.data.jpa.repository.JpaRepository;

public interface ReservationRepository extends JpaRepository<Reservation, java.util.UUID> {
  long countByMessageId(String messageId);
}
