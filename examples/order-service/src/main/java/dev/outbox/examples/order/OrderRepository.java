package dev.outbox.examples.order;

import java.util.UUID;
import org.springframework.data.jpa.repository.JpaRepository;

/** Spring Data JPA repository of {@link Order}s. */
public interface OrderRepository extends JpaRepository<Order, UUID> {}
