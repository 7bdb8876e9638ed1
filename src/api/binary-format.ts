import { createBaggage, SpanContext } from './span-context.js';
import { isValidSpanId, isValidTraceId } from '../util/ids.js';

const VERSION = 0;
const MAX_SECTION = 0xffff;

/**
 * The binary format: a versioned byte layout stored in `carrier.buffer`.
 * `[version=0][trace id: 16][span id: 8][flags: 1][tracestate length: 2][tracestate]`
 * `[baggage length: 2][baggage as JSON]`, lengths big-endian.
 */
export function injectBinary(context: SpanContext, carrier: unknown): void {
  if (carrier === null || typeof carrier !== 'object') return;
  if (!isValidTraceId(context.traceId) || !isValidSpanId(context.spanId)) return;
  const state = Buffer.from(context.traceState, 'latin1');
  const baggage = Buffer.from(context.baggage === null ? '' : JSON.stringify(context.baggage), 'utf8');
  if (state.length > MAX_SECTION || baggage.length > MAX_SECTION) return;
  const out = Buffer.alloc(1 + 16 + 8 + 1 + 2 + state.length + 2 + baggage.length);
  let o = 0;
  out[o++] = VERSION;
  o += out.write(context.traceId, o, 'hex');
  o += out.write(context.spanId, o, 'hex');
  out[o++] = context.traceFlags & 0xff;
  o = out.writeUInt16BE(state.length, o);
  o += state.copy(out, o);
  o = out.writeUInt16BE(baggage.length, o);
  baggage.copy(out, o);
  (carrier as { buffer: Uint8Array }).buffer = new Uint8Array(out);
}

/** Reads the binary format; `null` for anything missing, short, or malformed. */
export function extractBinary(carrier: unknown): SpanContext | null {
  if (carrier === null || typeof carrier !== 'object') return null;
  const raw = (carrier as { buffer?: unknown }).buffer;
  if (raw === null || raw === undefined || typeof raw !== 'object' || typeof (raw as ArrayLike<number>).length !== 'number') return null;
  let buf: Buffer;
  try {
    buf = Buffer.from(raw as ArrayLike<number>);
  } catch {
    return null;
  }
  if (buf.length < 30 || buf[0] !== VERSION) return null;
  const traceId = buf.toString('hex', 1, 17);
  const spanId = buf.toString('hex', 17, 25);
  if (!isValidTraceId(traceId) || !isValidSpanId(spanId)) return null;
  const flags = buf[25]!;
  let o = 26;
  const stateLen = buf.readUInt16BE(o);
  o += 2;
  if (o + stateLen + 2 > buf.length) return null;
  const traceState = buf.toString('latin1', o, o + stateLen);
  o += stateLen;
  const bagLen = buf.readUInt16BE(o);
  o += 2;
  if (o + bagLen > buf.length) return null;
  let baggage: Record<string, string> | null = null;
  if (bagLen > 0) {
    try {
      const parsed: unknown = JSON.parse(buf.toString('utf8', o, o + bagLen));
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
      baggage = createBaggage();
      for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
        if (typeof v === 'string') baggage[k] = v;
      }
    } catch {
      return null;
    }
  }
  return SpanContext.remote(traceId, spanId, flags, traceState, null, baggage);
}
