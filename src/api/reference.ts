import { REFERENCE_CHILD_OF, REFERENCE_FOLLOWS_FROM } from './tags.js';
import type { SpanContext } from './span-context.js';

/** Anything that can be referenced: a span (its context is taken) or a context. */
export interface ContextSource {
  context(): SpanContext;
}

/** A causal link to another span: `child_of` (the parent) or `follows_from`. */
export class Reference {
  private readonly _type: string;
  private readonly _context: SpanContext;

  constructor(type: string, referenced: SpanContext | ContextSource) {
    this._type = type;
    this._context = isContextSource(referenced) ? referenced.context() : referenced;
  }

  /** `child_of` or `follows_from`. */
  type(): string {
    return this._type;
  }

  referencedContext(): SpanContext {
    return this._context;
  }
}

export function isContextSource(value: unknown): value is ContextSource {
  return typeof value === 'object' && value !== null && typeof (value as ContextSource).context === 'function';
}

/** A `child_of` reference, for `startSpan(name, { references: [childOf(parent)] })`. */
export function childOf(parent: SpanContext | ContextSource): Reference {
  return new Reference(REFERENCE_CHILD_OF, parent);
}

/** A `follows_from` reference: the new span is caused by, but does not wait on, `cause`. */
export function followsFrom(cause: SpanContext | ContextSource): Reference {
  return new Reference(REFERENCE_FOLLOWS_FROM, cause);
}
