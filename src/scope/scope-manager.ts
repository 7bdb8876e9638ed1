import type { Span } from '../api/span.js';
import type { Scope } from '../api/scope-manager.js';

export type { Scope, ScopeManager } from '../api/scope-manager.js';

const CLOSED = 1;
const SUPPRESSED = 2;
const FINISH_ON_CLOSE = 4;

/** The shared shape of both scope managers' scopes: a link to the scope active before it. */
export class LinkedScope implements Scope {
  /**
   * Closed, suppressed and finish-on-close as bits of one number (`CLOSED`, `SUPPRESSED`, `FINISH_ON_CLOSE`):
   * a server request makes one scope, and three fields of their own made it 16 bytes larger.
   */
  private _state: number;
  /**
   * What a bridge to another context API keeps beside the active span, in this same store (the
   * OpenTelemetry bridge's active `Context`): inherited from the scope this one was opened on, so
   * it holds for everything opened inside, as a store of its own would.
   */
  attachment: object | undefined;
  /**
   * The context frame that holds this scope on a Node whose `AsyncLocalStorage` works by frames (see
   * context-frame.ts), set at its first entry by `callIn` or `run`, then switched to on every later
   * re-entry instead of building two frames each time. Usually the scope itself: async-local.ts gives
   * this class the few `Map` methods Node reads of a frame (`has`, `get`, iteration, `disable`), so a
   * request needs no frame object of its own. Not kept for `bind`'s scope (a new frame each call, as
   * its calls come from any context); a scope re-entered from another base gets a frame made apart.
   */
  frame: object | undefined = undefined;
  /**
   * The frame `frame` was made from, and for a scope that is its own frame the one its other storages'
   * values are read from. The kept frame is reused only when the re-entry comes from that same frame (a
   * request's events, all emitted from its socket's): from any other, the other storages' values of the
   * moment must show, as `run` would show them, so a new frame is made.
   */
  frameBase: unknown = undefined;
  constructor(
    readonly span: Span,
    finishOnClose: boolean,
    readonly previous: LinkedScope | null,
    private readonly onClose: (scope: LinkedScope) => void,
    /** The manager whose active scope this can be; null for a suppression mark, which is nobody's. */
    readonly owner: object | null = null,
  ) {
    this._state = (finishOnClose ? FINISH_ON_CLOSE : 0) | (previous !== null && previous.suppressed ? SUPPRESSED : 0);
    this.attachment = previous !== null ? previous.attachment : undefined;
  }

  get closed(): boolean {
    return (this._state & CLOSED) !== 0;
  }

  /**
   * Inside `suppressTracing` (the agent's own work): instrumentations start no span. Inherited from
   * the scope this one was opened on, so a scope opened inside suppressed code stays suppressed.
   */
  get suppressed(): boolean {
    return (this._state & SUPPRESSED) !== 0;
  }

  set suppressed(on: boolean) {
    this._state = on ? this._state | SUPPRESSED : this._state & ~SUPPRESSED;
  }

  get finishOnClose(): boolean {
    return (this._state & FINISH_ON_CLOSE) !== 0;
  }

  /**
   * A mark that suppresses tracing on top of `previous` without changing the active span: skipped by
   * `activeOf`, kept in the chain so that a scope opened and closed inside returns to it.
   */
  static suppression(previous: LinkedScope | null): LinkedScope {
    const mark = new LinkedScope(null as unknown as Span, false, previous, noop, null);
    mark.suppressed = true;
    return mark;
  }

  /**
   * A mark with nothing active under it (no previous scope) that keeps `from`'s suppression and
   * attachment: what `run(null, fn)` enters when either is set.
   */
  static detached(from: LinkedScope | null): LinkedScope {
    const mark = new LinkedScope(null as unknown as Span, false, null, noop, null);
    if (from !== null) {
      mark.suppressed = from.suppressed;
      mark.attachment = from.attachment;
    }
    return mark;
  }

  close(): void {
    if ((this._state & CLOSED) !== 0) return;
    this._state |= CLOSED;
    this.onClose(this);
    if (this.finishOnClose) this.span.finish();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function noop(): void {}

/** The innermost scope on this chain that is still open (suppression marks included). */
export function firstOpen(scope: LinkedScope | null | undefined): LinkedScope | null {
  let s = scope ?? null;
  while (s !== null && s.closed) s = s.previous;
  return s;
}

/** The innermost open scope of `owner` on this chain: its active scope. */
export function activeOf(scope: LinkedScope | null | undefined, owner: object): LinkedScope | null {
  let s = scope ?? null;
  while (s !== null && (s.closed || s.owner !== owner)) s = s.previous;
  return s;
}
