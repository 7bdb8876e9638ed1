// The load both http benchmarks drive their servers with: raw keep-alive sockets, one request in
// flight per connection, each response counted by a marker in its body and answered with the next
// request at once. Cheap enough that the server, not this client, is the bottleneck.
import net from 'node:net';

/**
 * Keeps `connections` sockets to 127.0.0.1:`port` busy for `ms`, each sending `request` (a Buffer or
 * string) again as soon as a response carrying `marker` has arrived; resolves with the number of
 * complete responses.
 */
export function loadSockets({ port, request, marker, connections, ms }) {
  const bytes = Buffer.from(request);
  let completed = 0;
  let running = true;
  const sockets = [];
  for (let i = 0; i < connections; i++) {
    const socket = net.connect(port, '127.0.0.1');
    // The end of the text seen so far, long enough to hold a marker split across two chunks.
    let tail = '';
    socket.setEncoding('latin1');
    socket.setNoDelay(true);
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (d) => {
      const text = tail + d;
      let done = 0;
      let last = -1;
      for (let at = text.indexOf(marker); at !== -1; at = text.indexOf(marker, at + marker.length)) {
        done++;
        last = at;
      }
      tail = (done > 0 ? text.slice(last + marker.length) : text).slice(-(marker.length - 1));
      completed += done;
      for (let k = 0; k < done && running; k++) socket.write(bytes);
    });
    socket.on('error', () => {});
    sockets.push(socket);
  }
  return new Promise((resolve) => setTimeout(() => {
    running = false;
    for (const s of sockets) s.destroy();
    resolve(completed);
  }, ms));
}
