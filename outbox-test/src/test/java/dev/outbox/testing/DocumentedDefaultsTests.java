package dev.outbox.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.test.DocumentedDefaults;
import org.junit.jupiter.api.Test;

/** docs/configuration.md quotes this module's property defaults as the code has them. */
class DocumentedDefaultsTests {

  @Test
  void everyPropertyIsDocumentedWithTheDefaultTheCodeHas() throws Exception {
    DocumentedDefaults.Result result = DocumentedDefaults.check();
    assertThat(result.problems()).isEmpty();
    assertThat(result.compared()).as("defaults compared").isGreaterThanOrEqualTo(1);
  }
}
