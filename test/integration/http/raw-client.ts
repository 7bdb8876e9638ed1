import * as net from 'node:net';

/** One step of a raw HTTP conversation: bytes to write, optionally only after some text has arrived. */
export interface RawStep {
  /** Wait until the response so far contains this text before writing. */
  after?: string;
  write?: string;
  /** Close our side right after this step (a client that gives up). */
  destroy?: boolean;
}

/**
 * Talks to a server over a plain socket and returns every byte it answered, as text, until the server
 * closes the connection (or `idleMs` passes without data). Raw bytes show framing differences that a
 * parsing client would hide: chunk sizes, header order and case, interim responses.
 */
export function rawExchange(port: number, steps: RawStep[], idleMs = 1500): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    let next = 0;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(idle);
      socket.destroy();
      resolve(received);
    };
    let idle = setTimeout(finish, idleMs);
    const advance = (): void => {
      while (next < steps.length) {
        const step = steps[next]!;
        if (step.after !== undefined && !received.includes(step.after)) return;
        next++;
        if (step.write !== undefined) socket.write(step.write);
        if (step.destroy === true) return finish();
      }
    };
    socket.setEncoding('latin1');
    socket.on('connect', advance);
    socket.on('data', (d: string) => {
      received += d;
      clearTimeout(idle);
      idle = setTimeout(finish, idleMs);
      advance();
    });
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', (err) => (received === '' ? reject(err) : finish()));
  });
}

/** Drops the lines that differ from run to run whatever the agent does (`Date:`). */
export function withoutDate(raw: string): string {
  return raw.replace(/^date: [^\r\n]*\r\n/gim, '');
}
