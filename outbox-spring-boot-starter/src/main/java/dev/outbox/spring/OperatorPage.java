package dev.outbox.spring;

import dev.outbox.OutboxException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.springframework.util.MimeType;

/**
 * The operator page: a static HTML document (inline CSS and JavaScript, no external resources) read
 * once from the classpath. The page fetches the endpoint's JSON and the meters itself.
 */
final class OperatorPage {

  /** The page's name under the endpoint's path: {@code /actuator/outbox/ui}. */
  static final String NAME = "ui";

  static final String MEDIA_TYPE = "text/html";

  static final MimeType CONTENT_TYPE = new MimeType("text", "html", StandardCharsets.UTF_8);

  private static final String RESOURCE = "/dev/outbox/spring/outbox-ui.html";

  private static volatile String html;

  private OperatorPage() {}

  static String html() {
    String page = html;
    if (page == null) {
      try (InputStream in = OperatorPage.class.getResourceAsStream(RESOURCE)) {
        if (in == null) {
          throw new OutboxException("The operator page " + RESOURCE + " is missing from the jar");
        }
        page = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException ex) {
        throw new OutboxException("Could not read the operator page " + RESOURCE, ex);
      }
      html = page;
    }
    return page;
  }
}
