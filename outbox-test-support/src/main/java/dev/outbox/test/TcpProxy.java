package dev.outbox.test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * A loopback TCP proxy to a server (a broker, a database) that can drop the server's replies for a
 * while (so publisher confirms stay outstanding), freeze its connections as a server that stops
 * answering would (a process stopped by SIGSTOP, a network that drops packets), also right after a
 * chosen request has gone through, cut its connections, as a network failure would, and refuse
 * connections for a while, as a stopped server would.
 */
public final class TcpProxy implements AutoCloseable {

  private final String targetHost;
  private final int targetPort;
  private final ServerSocket server;
  private final Set<Link> links = ConcurrentHashMap.newKeySet();
  private final Set<Link> silenced = ConcurrentHashMap.newKeySet();
  private volatile boolean down;
  private final Object thawed = new Object();
  private volatile boolean frozen;
  private volatile @Nullable String freezeAfter;

  public TcpProxy(String targetHost, int targetPort) throws IOException {
    this.targetHost = targetHost;
    this.targetPort = targetPort;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::accept, "tcp-proxy-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  public int port() {
    return server.getLocalPort();
  }

  /** Stops passing broker-to-client bytes on the current connections; new ones are unaffected. */
  public void holdReplies() {
    links.forEach(link -> link.held = true);
  }

  /**
   * Passes the broker's bytes again from now on; what was held back is gone, so the confirms it
   * carried never arrive.
   */
  public void passReplies() {
    links.forEach(link -> link.held = false);
  }

  /**
   * Stops moving bytes in both directions on every connection, current and new, and loses none: the
   * connections stay open, what either side writes waits in the proxy and in the sockets' buffers,
   * as it would with a broker process stopped by SIGSTOP. {@link #thaw()} passes it all on.
   */
  public void freeze() {
    frozen = true;
  }

  /**
   * {@link #freeze() Freezes} every connection as soon as a client's bytes holding {@code marker}
   * (as ASCII, within one read) have gone through to the server: the server gets the request and
   * answers, and the client never hears the answer.
   */
  public void freezeAfter(String marker) {
    freezeAfter = marker;
  }

  /** Whether the proxy is frozen now (also by {@link #freezeAfter}). */
  public boolean frozen() {
    return frozen;
  }

  /** Moves the bytes held since {@link #freeze()} on, and everything after them. */
  public void thaw() {
    synchronized (thawed) {
      frozen = false;
      thawed.notifyAll();
    }
  }

  /**
   * Goes down like a stopped broker: cuts every connection and closes each new one as soon as it is
   * accepted, until {@link #comeBack()}.
   */
  public void goDown() {
    down = true;
    cutConnections();
  }

  /** Passes new connections to the broker again. */
  public void comeBack() {
    down = false;
  }

  /**
   * Closes the server's side of every current connection and leaves the client's open and silent:
   * the server ends those sessions, and the clients hear nothing of it, as when a server goes away
   * while the network drops its packets. New connections are unaffected.
   */
  public void dropSilently() {
    for (Link link : links) {
      link.silent = true;
      silenced.add(link);
      try {
        link.broker.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
    links.removeAll(silenced);
  }

  /** Closes every current connection on both sides. */
  public void cutConnections() {
    for (Link link : links) {
      link.close();
    }
    links.clear();
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        if (down) {
          client.close();
          continue;
        }
        Socket broker = new Socket(targetHost, targetPort);
        Link link = new Link(client, broker);
        links.add(link);
        pump(client.getInputStream(), broker.getOutputStream(), link, false);
        pump(broker.getInputStream(), client.getOutputStream(), link, true);
      } catch (IOException ex) {
        // server closed, or the broker refused: the client sees its connection fail
      }
    }
  }

  private void awaitThawed() throws InterruptedException {
    synchronized (thawed) {
      while (frozen) {
        thawed.wait();
      }
    }
  }

  private void awaitThawedQuietly() {
    try {
      awaitThawed();
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
    }
  }

  private void pump(InputStream in, OutputStream out, Link link, boolean replies) {
    Thread thread =
        new Thread(
            () -> {
              byte[] buffer = new byte[16384];
              try {
                int read;
                while ((read = in.read(buffer)) >= 0) {
                  if (replies && link.held) {
                    continue;
                  }
                  awaitThawed();
                  out.write(buffer, 0, read);
                  out.flush();
                  String marker = freezeAfter;
                  if (!replies
                      && marker != null
                      && new String(buffer, 0, read, StandardCharsets.ISO_8859_1)
                          .contains(marker)) {
                    freezeAfter = null;
                    frozen = true;
                  }
                }
              } catch (IOException ex) {
                // connection cut
              } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
              } finally {
                if (!link.silent) {
                  // A frozen network does not pass a close on either: the other side hears of it
                  // once the proxy thaws (or closes)
                  awaitThawedQuietly();
                  link.close();
                }
              }
            },
            replies ? "tcp-proxy-replies" : "tcp-proxy-requests");
    thread.setDaemon(true);
    thread.start();
  }

  @Override
  public void close() throws IOException {
    server.close();
    thaw();
    cutConnections();
    silenced.forEach(Link::close);
    silenced.clear();
  }

  private static final class Link {
    final Socket client;
    final Socket broker;
    volatile boolean held;
    volatile boolean silent;

    Link(Socket client, Socket broker) {
      this.client = client;
      this.broker = broker;
    }

    void close() {
      try {
        client.close();
      } catch (IOException ignored) {
        // closing anyway
      }
      try {
        broker.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
  }
}
