package dev.outbox.kafka;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A loopback TCP proxy to a broker that can freeze: while frozen it passes no byte in either
 * direction on any connection, old or new, but keeps them open, as a broker that hangs or a network
 * that stalls would. Nothing is lost; the bytes flow again once thawed.
 */
final class FreezingProxy implements AutoCloseable {

  private final int targetPort;
  private final ServerSocket server;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private final Object lock = new Object();
  private boolean frozen;

  FreezingProxy(int listenPort, int targetPort) throws IOException {
    this.targetPort = targetPort;
    this.server = new ServerSocket(listenPort, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::accept, "freezing-proxy-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  void freeze() {
    synchronized (lock) {
      frozen = true;
    }
  }

  void thaw() {
    synchronized (lock) {
      frozen = false;
      lock.notifyAll();
    }
  }

  private void awaitThawed() throws InterruptedException {
    synchronized (lock) {
      while (frozen) {
        lock.wait();
      }
    }
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        Socket broker = new Socket(InetAddress.getLoopbackAddress(), targetPort);
        sockets.add(client);
        sockets.add(broker);
        pump(client, broker);
        pump(broker, client);
      } catch (IOException ex) {
        // closed
      }
    }
  }

  private void pump(Socket from, Socket to) {
    Thread thread =
        new Thread(
            () -> {
              byte[] buffer = new byte[64 * 1024];
              try (InputStream in = from.getInputStream();
                  OutputStream out = to.getOutputStream()) {
                int read;
                while ((read = in.read(buffer)) >= 0) {
                  awaitThawed();
                  out.write(buffer, 0, read);
                  out.flush();
                }
              } catch (IOException | InterruptedException ex) {
                // closed
              } finally {
                close(from);
                close(to);
              }
            },
            "freezing-proxy-pump");
    thread.setDaemon(true);
    thread.start();
  }

  private static void close(Socket socket) {
    try {
      socket.close();
    } catch (IOException ex) {
      // closing anyway
    }
  }

  @Override
  public void close() throws IOException {
    thaw();
    server.close();
    sockets.forEach(FreezingProxy::close);
  }
}
