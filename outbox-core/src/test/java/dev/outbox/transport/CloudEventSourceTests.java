package dev.outbox.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.net.URI;
import org.junit.jupiter.api.Test;

class CloudEventSourceTests {

  @Test
  void acceptsUriReferences() {
    for (String source :
        new String[] {"order-service", "/shop/orders", "urn:shop:orders", "https://x.example/a"}) {
      assertThat(CloudEventSource.check(source)).isEqualTo(source);
    }
  }

  @Test
  void rejectsWhatIsNotAUriReferenceNamingTheProblem() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> CloudEventSource.check(" "))
        .withMessage("source must not be blank");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> CloudEventSource.check("Order Service"))
        .withMessageContaining("'Order Service' has a space at index 5");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> CloudEventSource.check("bestellung-ü"))
        .withMessageContaining("has U+00FC at index 11");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> CloudEventSource.check("100%"))
        .withMessageContaining("'100%' is not: Malformed escape pair");
  }

  @Test
  void namesThatAreUriReferencesStayAsTheyAreAndOthersArePercentEncoded() {
    assertThat(CloudEventSource.fromName("order-service")).isEqualTo("order-service");
    assertThat(CloudEventSource.fromName("urn:shop:orders")).isEqualTo("urn:shop:orders");
    assertThat(CloudEventSource.fromName("Order Service")).isEqualTo("Order%20Service");
    assertThat(CloudEventSource.fromName("Bestellung ü 100%"))
        .isEqualTo("Bestellung%20%C3%BC%20100%25");
    assertThat(URI.create(CloudEventSource.fromName("a b:c?d#e")).getPath()).isEqualTo("a b:c?d#e");
  }

  /** Input: no source, an application name with a space, and a configured source with one. */
  @Test
  void resolveChecksAConfiguredSourceNamingItsPropertyAndOtherwiseEncodesTheApplicationName() {
    assertThat(CloudEventSource.resolve(null, "p", null, "outbox")).isEqualTo("outbox");
    assertThat(CloudEventSource.resolve(" ", "p", "Order Service", "outbox"))
        .isEqualTo("Order%20Service");
    assertThat(CloudEventSource.resolve("/shop/orders", "p", "Order Service", "outbox"))
        .isEqualTo("/shop/orders");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> CloudEventSource.resolve("Order Service", "outbox.x.source", null, "o"))
        .withMessageStartingWith("Invalid outbox.x.source: source must be a URI reference");
  }
}
