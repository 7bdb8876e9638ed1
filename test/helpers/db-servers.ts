import * as net from 'node:net';

/**
 * Where the test database and message-broker servers listen, as `scripts/setup-test-env.sh` starts them (same defaults,
 * same environment overrides). Test suites create their own database or key prefix and remove it.
 */
export const postgres = {
  host: '127.0.0.1',
  port: Number(process.env.TEST_PG_PORT ?? 54329),
  user: 'acme',
  password: 'acme-pg-pass',
  database: 'postgres',
} as const;

export const mysql = {
  host: '127.0.0.1',
  port: Number(process.env.TEST_MYSQL_PORT ?? 33069),
  user: 'acme',
  password: 'acme-mysql-pass',
} as const;

export const redis = {
  host: '127.0.0.1',
  port: Number(process.env.TEST_REDIS_PORT ?? 63799),
  password: 'acme-redis-pass',
} as const;

/** RabbitMQ (AMQP 0-9-1); `url` is what `amqplib.connect` takes. */
export const rabbitmq = {
  host: '127.0.0.1',
  port: Number(process.env.TEST_AMQP_PORT ?? 56729),
  user: 'acme',
  password: 'acme-amqp-pass',
  vhost: '/',
  get url(): string {
    return `amqp://${this.user}:${this.password}@${this.host}:${this.port}/${encodeURIComponent(this.vhost)}`;
  },
} as const;

/**
 * Resolves when `name` accepts TCP connections on `port`; otherwise rejects with a message that
 * names the server and the command that starts it. Database tests call this first and fail (never
 * skip) when it rejects.
 */
export function requireServer(name: string, port: number, timeoutMs = 2000): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => done(new Error('timed out')), timeoutMs);
    function done(err?: Error): void {
      clearTimeout(timer);
      socket.destroy();
      if (err === undefined) resolve();
      else reject(new Error(`${name} is not answering on 127.0.0.1:${port} (${err.message}); start it with: bash scripts/setup-test-env.sh`));
    }
    socket.once('connect', () => done());
    socket.once('error', (err) => done(err));
  });
}
