package dev.outbox.testing.shop;

import org.springframework.boot.autoconfigure.SpringBootApplication;

/** A small JDBC service that publishes order events through the outbox. */
@SpringBootApplication
public class ShopApplication {}
