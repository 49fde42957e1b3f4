package dev.outbox.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The name of a member's anchor session; against the database: OutboxRelayIntegrationTests. */
class PostgresLeasesTests {

  private static final String UUID = "0193a0c4-6c1e-4b7e-9f4e-2a51b8a7c0d1";

  @Test
  void aMemberIdThatFitsNamesTheAnchorAsItIs() {
    String member = "outbox-relay-orders-7d9c6b-" + UUID;
    assertThat(member).hasSize(PostgresLeases.MAX_APPLICATION_NAME);
    assertThat(PostgresLeases.applicationName(member)).isEqualTo(member);
  }

  @Test
  void aLongerMemberIdLosesTheEndOfItsHostAndKeepsItsUuid() {
    String member = "outbox-relay-orders-7d9c6b5f4-x2kqp-" + UUID;
    assertThat(PostgresLeases.applicationName(member))
        .isEqualTo("outbox-relay-orders-7d9c6b-" + UUID)
        .hasSize(PostgresLeases.MAX_APPLICATION_NAME);
  }

  @Test
  void charactersOtherThanPrintableAsciiBecomeQuestionMarksSoTheNameFitsInBytes() {
    String member = "relé-commandes-" + "ü".repeat(20) + "-" + UUID;
    String name = PostgresLeases.applicationName(member);
    assertThat(name).startsWith("rel?-commandes-????").endsWith("-" + UUID);
    assertThat(name.getBytes(StandardCharsets.UTF_8)).hasSize(PostgresLeases.MAX_APPLICATION_NAME);
  }
}
