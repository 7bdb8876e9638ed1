import { Tags } from '../api/tags.js';
import { SpanKind, StatusCode, type MappedSpan } from './span-model.js';
import { msToMicros } from './time.js';

const ZIPKIN_KIND: Record<number, string | undefined> = {
  [SpanKind.SERVER]: 'SERVER',
  [SpanKind.CLIENT]: 'CLIENT',
  [SpanKind.PRODUCER]: 'PRODUCER',
  [SpanKind.CONSUMER]: 'CONSUMER',
};

/** A Zipkin v2 span, as POSTed to `/api/v2/spans`. */
export interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name: string;
  kind?: string;
  timestamp: number;
  duration: number;
  localEndpoint: { serviceName: string };
  remoteEndpoint?: { serviceName?: string; ipv4?: string; ipv6?: string; port?: number };
  tags: Record<string, string>;
  annotations?: { timestamp: number; value: string }[];
}

/**
 * Maps to Zipkin v2: kind INTERNAL has no `kind`, attributes become string tags, an error
 * becomes the `error` tag (its message, or `true`), events become annotations (name plus their
 * attributes), `peer.*` tags fill `remoteEndpoint`. Zipkin has no links: they are not sent.
 */
export function toZipkinSpan(s: MappedSpan, serviceName: string): ZipkinSpan {
  const tags: Record<string, string> = {};
  let remote: ZipkinSpan['remoteEndpoint'];
  for (const a of s.attributes) {
    tags[a.key] = typeof a.value === 'object' ? JSON.stringify(a.value) : String(a.value);
    switch (a.key) {
      case Tags.PEER_SERVICE:
        (remote ??= {}).serviceName = String(a.value);
        break;
      case Tags.PEER_HOST_IPV4:
        (remote ??= {}).ipv4 = String(a.value);
        break;
      case Tags.PEER_HOST_IPV6:
        (remote ??= {}).ipv6 = String(a.value);
        break;
      case Tags.PEER_PORT: {
        const port = Number(a.value);
        if (Number.isInteger(port) && port > 0 && port < 65536) (remote ??= {}).port = port;
        break;
      }
    }
  }
  // OpenTelemetry's Zipkin mapping names the instrumentation scope in these two tags.
  if (s.scopeName !== '') {
    tags['otel.scope.name'] = s.scopeName;
    if (s.scopeVersion !== '') tags['otel.scope.version'] = s.scopeVersion;
  }
  if (s.statusCode === StatusCode.ERROR) tags.error = s.statusMessage === '' ? 'true' : s.statusMessage;
  const out: ZipkinSpan = {
    traceId: s.traceId,
    id: s.spanId,
    name: s.name,
    timestamp: msToMicros(s.startMs),
    // Zipkin reads a zero duration as "unknown"; one microsecond is the honest minimum.
    duration: Math.max(1, msToMicros(s.durationMs)),
    localEndpoint: { serviceName },
    tags,
  };
  if (s.parentSpanId !== '') out.parentId = s.parentSpanId;
  const kind = ZIPKIN_KIND[s.kind];
  if (kind !== undefined) out.kind = kind;
  if (remote !== undefined) out.remoteEndpoint = remote;
  if (s.events.length > 0) {
    out.annotations = s.events.map((e) => ({
      timestamp: msToMicros(e.timeMs),
      value: e.attributes.length === 0 ? e.name : `${e.name} ${JSON.stringify(Object.fromEntries(e.attributes.map((a) => [a.key, a.value])))}`,
    }));
  }
  return out;
}

/** Encodes a batch as the JSON array Zipkin's v2 API accepts. */
export function encodeZipkin(spans: readonly MappedSpan[], serviceName: string): Buffer {
  return Buffer.from(JSON.stringify(spans.map((s) => toZipkinSpan(s, serviceName))), 'utf8');
}
