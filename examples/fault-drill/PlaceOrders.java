import java.io.FileWriter;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Places orders through {@code POST /orders} with a number of threads until a stop file exists, and
 * appends the id of every order the service answered 201 for to a file. Refused or failed calls
 * (the service being killed) are counted and retried after a pause.
 *
 * <p>Arguments: base URL, threads, the file of placed order ids, the stop file.
 */
public class PlaceOrders {

  public static void main(String[] args) throws Exception {
    String base = args[0];
    int threads = Integer.parseInt(args[1]);
    Path stop = Path.of(args[3]);
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    AtomicLong placed = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    try (PrintWriter out = new PrintWriter(new FileWriter(args[2], true), true)) {
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      for (int t = 0; t < threads; t++) {
        pool.execute(
            () -> {
              HttpRequest request =
                  HttpRequest.newBuilder(URI.create(base + "/orders"))
                      .header("Content-Type", "application/json")
                      .timeout(Duration.ofSeconds(10))
                      .POST(
                          HttpRequest.BodyPublishers.ofString(
                              "{\"customerId\":\"drill\",\"product\":\"tea\",\"quantity\":1}"))
                      .build();
              while (!Files.exists(stop)) {
                try {
                  HttpResponse<String> response =
                      http.send(request, HttpResponse.BodyHandlers.ofString());
                  if (response.statusCode() == 201) {
                    String body = response.body();
                    int from = body.indexOf("\"orderId\":\"") + 11;
                    synchronized (out) {
                      out.println(body.substring(from, body.indexOf('"', from)));
                    }
                    placed.incrementAndGet();
                    continue;
                  }
                } catch (Exception ex) {
                  // the service is down or was killed: count it and try again
                }
                failed.incrementAndGet();
                try {
                  Thread.sleep(200);
                } catch (InterruptedException ex) {
                  return;
                }
              }
            });
      }
      pool.shutdown();
      pool.awaitTermination(1, TimeUnit.HOURS);
    }
    System.out.println(base + ": placed " + placed + ", failed calls " + failed);
  }
}
