// Turns a trace's spans into the waterfall's rows: one row per span, parents before children,
// siblings in start order. Built once per trace, iteratively (a 50,000-span trace or a chain
// thousands of levels deep must not overflow the stack), into typed arrays indexed by row.
// DOM-free, so Node tests can run it too.
import type { ViewSpan } from '../model.js';

/** The rows of a trace in display order, with what the waterfall needs to draw and collapse them. */
export interface SpanTree {
  /** The trace's spans, as given. */
  readonly spans: readonly ViewSpan[];
  /** Row → index into `spans`. */
  readonly spanOfRow: Int32Array;
  /** Row → nesting depth (0 for a root or a span whose parent is missing). */
  readonly depth: Int32Array;
  /** Row → the last row of its subtree (itself for a leaf). */
  readonly subtreeEnd: Int32Array;
  /** Row → number of direct children. */
  readonly childCount: Int32Array;
  /** Row → 1 when the span names a parent that is not in the trace (not arrived, or a cycle). */
  readonly missingParent: Uint8Array;
  /** Earliest start and latest end over all spans (ms since epoch). */
  readonly startMs: number;
  readonly endMs: number;
  /** Distinct services in first-seen (start) order. */
  readonly services: readonly string[];
}

/** Builds the rows of a trace. Spans with a duplicate spanId after the first are shown as roots of their own. */
export function buildSpanTree(spans: readonly ViewSpan[]): SpanTree {
  const n = spans.length;
  const byStart = new Int32Array(n);
  for (let i = 0; i < n; i++) byStart[i] = i;
  // The server sends spans in start order: check that in one pass before paying for a sort.
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) sorted = spans[i - 1]!.startMs <= spans[i]!.startMs;
  if (!sorted) byStart.sort((a, b) => spans[a]!.startMs - spans[b]!.startMs || a - b);

  const indexOfId = new Map<string, number>();
  for (let k = 0; k < n; k++) {
    const i = byStart[k]!;
    if (!indexOfId.has(spans[i]!.spanId)) indexOfId.set(spans[i]!.spanId, i);
  }

  // Parent of each span (-1: none or missing) and children lists in start order (CSR layout).
  const parentOf = new Int32Array(n).fill(-1);
  const missing = new Uint8Array(n);
  const childTotal = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    const parentId = spans[i]!.parentSpanId;
    if (!parentId) continue;
    const parent = indexOfId.get(parentId);
    if (parent === undefined || parent === i) missing[i] = 1;
    else {
      parentOf[i] = parent;
      childTotal[parent + 1]!++;
    }
  }
  const childStart = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) childStart[i + 1] = childStart[i]! + childTotal[i + 1]!;
  const fill = childStart.slice(0, n);
  const children = new Int32Array(childStart[n]!);
  for (let k = 0; k < n; k++) {
    const i = byStart[k]!;
    const parent = parentOf[i]!;
    if (parent >= 0) children[fill[parent]!++] = i;
  }

  const spanOfRow = new Int32Array(n);
  const depth = new Int32Array(n);
  const rowParent = new Int32Array(n);
  const missingParent = new Uint8Array(n);
  const rowOfSpan = new Int32Array(n).fill(-1);
  const depthOfSpan = new Int32Array(n);
  const stack = new Int32Array(n);
  let row = 0;

  // Depth-first from every root in start order; then from any span not reached yet, which can only
  // be part of a parent cycle (bad data): it is shown as a span with a missing parent, not dropped.
  const visit = (root: number, isOrphan: boolean): void => {
    let top = 0;
    stack[top++] = root;
    depthOfSpan[root] = 0;
    rowOfSpan[root] = -2; // queued
    let first = true;
    while (top > 0) {
      const i = stack[--top]!;
      spanOfRow[row] = i;
      depth[row] = depthOfSpan[i]!;
      rowParent[row] = first ? -1 : rowOfSpan[parentOf[i]!]!;
      if (first) missingParent[row] = isOrphan ? 1 : 0;
      first = false;
      rowOfSpan[i] = row++;
      // Pushed in reverse so that the earliest child is drawn first.
      for (let c = childStart[i + 1]! - 1; c >= childStart[i]!; c--) {
        const child = children[c]!;
        if (rowOfSpan[child] !== -1) continue;
        rowOfSpan[child] = -2;
        depthOfSpan[child] = depthOfSpan[i]! + 1;
        stack[top++] = child;
      }
    }
  };
  for (let k = 0; k < n; k++) {
    const i = byStart[k]!;
    if (parentOf[i] === -1 && rowOfSpan[i] === -1) visit(i, missing[i] === 1);
  }
  for (let k = 0; k < n && row < n; k++) {
    const i = byStart[k]!;
    if (rowOfSpan[i] === -1) visit(i, true);
  }

  // Subtree sizes bottom-up: in pre-order every row comes after its parent.
  const size = new Int32Array(n).fill(1);
  const childCount = new Int32Array(n);
  for (let r = n - 1; r > 0; r--) {
    const p = rowParent[r]!;
    if (p >= 0) {
      size[p]! += size[r]!;
      childCount[p]!++;
    }
  }
  const subtreeEnd = new Int32Array(n);
  for (let r = 0; r < n; r++) subtreeEnd[r] = r + size[r]! - 1;

  let startMs = Infinity;
  let endMs = -Infinity;
  const services: string[] = [];
  const seen = new Set<string>();
  for (let k = 0; k < n; k++) {
    const span = spans[byStart[k]!]!;
    if (span.startMs < startMs) startMs = span.startMs;
    const end = span.startMs + Math.max(0, span.durationMs);
    if (end > endMs) endMs = end;
    if (!seen.has(span.service)) {
      seen.add(span.service);
      services.push(span.service);
    }
  }
  if (n === 0) startMs = endMs = 0;
  return { spans, spanOfRow, depth, subtreeEnd, childCount, missingParent, startMs, endMs, services };
}

/** The rows shown when the rows flagged in `collapsed` hide their subtrees. */
export function visibleRows(tree: SpanTree, collapsed: Uint8Array): Int32Array {
  const n = tree.spanOfRow.length;
  const rows = new Int32Array(n);
  let count = 0;
  for (let r = 0; r < n; ) {
    rows[count++] = r;
    r = collapsed[r] ? tree.subtreeEnd[r]! + 1 : r + 1;
  }
  return rows.subarray(0, count);
}
