import type { Span } from '../api/span.js';
import type { Scope } from '../api/scope-manager.js';

export type { Scope, ScopeManager } from '../api/scope-manager.js';

/** The shared shape of both scope managers' scopes: a link to the scope active before it. */
export class LinkedScope implements Scope {
  closed = false;
  constructor(
    readonly span: Span,
    readonly finishOnClose: boolean,
    readonly previous: LinkedScope | null,
    private readonly onClose: (scope: LinkedScope) => void,
  ) {}

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose(this);
    if (this.finishOnClose) this.span.finish();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** The innermost scope on this chain that is still open. */
export function firstOpen(scope: LinkedScope | null | undefined): LinkedScope | null {
  let s = scope ?? null;
  while (s !== null && s.closed) s = s.previous;
  return s;
}
