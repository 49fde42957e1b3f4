package dev.outbox.spring.webapp;

import jakarta.servlet.Filter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import java.security.Principal;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;

/**
 * A web application with the outbox and Actuator. A request header {@code X-Test-User} stands in
 * for an authentication layer: it becomes the request's principal.
 */
@SpringBootApplication
public class WebTestApplication {

  @Bean
  Filter testUserFilter() {
    return (request, response, chain) -> {
      String user = ((HttpServletRequest) request).getHeader("X-Test-User");
      if (user == null) {
        chain.doFilter(request, response);
        return;
      }
      Principal principal = () -> user;
      chain.doFilter(
          new HttpServletRequestWrapper((HttpServletRequest) request) {
            @Override
            public Principal getUserPrincipal() {
              return principal;
            }
          },
          response);
    };
  }
}
