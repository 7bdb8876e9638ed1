// The waterfall: one row per span on a shared time axis, virtualised. Only the rows in view plus a
// small overscan exist in the DOM; they are a pool of elements re-filled on scroll, so a 50,000-span
// trace costs the same to scroll as a 50-span one. Geometry goes through the CSSOM (the CSP forbids
// style attributes), text through textContent.
import type { ViewSpan } from '../model.js';
import { el } from './dom.js';
import { formatDuration, serviceColor } from './format.js';
import { visibleRows, type SpanTree } from './span-tree.js';

/** Row height in pixels; fixed, so that row k sits at k × ROW_HEIGHT without measuring. */
export const ROW_HEIGHT = 24;
const OVERSCAN = 8;
/** Deeper rows stop indenting (a chain thousands deep would push names off screen); data-depth keeps the truth. */
const MAX_INDENT_LEVELS = 16;
const INDENT_PX = 12;

interface PooledRow {
  root: HTMLDivElement;
  nameCol: HTMLDivElement;
  toggle: HTMLButtonElement;
  depthMark: HTMLSpanElement;
  swatch: HTMLSpanElement;
  name: HTMLSpanElement;
  service: HTMLSpanElement;
  orphan: HTMLSpanElement;
  errorBadge: HTMLSpanElement;
  bar: HTMLDivElement;
  label: HTMLSpanElement;
  /** The tree row it shows and the state it was drawn with, to skip redundant updates. */
  row: number;
  stamp: number;
}

/** The waterfall of one trace. */
export class Waterfall {
  readonly element: HTMLDivElement;
  private readonly scroller: HTMLDivElement;
  private readonly spacer: HTMLDivElement;
  private readonly pool: PooledRow[] = [];
  private readonly collapsed: Uint8Array;
  private visible: Int32Array;
  private selectedRow = -1;
  /** Bumped whenever rows must be redrawn even if they show the same tree row. */
  private stamp = 0;
  private framePending = false;
  private readonly span0: number;
  private readonly total: number;
  private readonly colorOf = new Map<string, string>();

  constructor(private readonly tree: SpanTree, private readonly onSelect: (span: ViewSpan, row: number) => void) {
    this.collapsed = new Uint8Array(tree.spanOfRow.length);
    this.visible = visibleRows(tree, this.collapsed);
    this.span0 = tree.startMs;
    this.total = Math.max(tree.endMs - tree.startMs, 1e-3);
    for (const service of tree.services) this.colorOf.set(service, serviceColor(service));

    const expandAll = el('button', { type: 'button', 'data-action': 'expand-all', title: 'Expand every span' }, 'Expand all');
    const collapseAll = el('button', { type: 'button', 'data-action': 'collapse-all', title: 'Collapse to the roots' }, 'Collapse all');
    expandAll.addEventListener('click', () => this.setAll(false));
    collapseAll.addEventListener('click', () => this.setAll(true));
    const axis = el('div', { class: 'axis' },
      el('div', { class: 'name-col' }, el('strong', null, 'Span'), expandAll, collapseAll),
      this.ticks());
    this.spacer = el('div', { class: 'rows-spacer' });
    this.scroller = el('div', { class: 'rows', role: 'tree', tabindex: 0 }, this.spacer);
    this.element = el('div', { class: 'waterfall' }, axis, this.scroller);
    this.scroller.addEventListener('scroll', () => this.scheduleRender(), { passive: true });
    this.scroller.addEventListener('click', (event) => this.onClick(event));
    this.scroller.addEventListener('keydown', (event) => this.onKey(event));
    window.addEventListener('resize', this.onResize);
  }

  /** Draws the rows in view; call once the element is in the document. */
  render(): void {
    this.framePending = false;
    const count = this.visible.length;
    const height = `${count * ROW_HEIGHT}px`;
    if (this.spacer.style.height !== height) this.spacer.style.height = height;
    const top = this.scroller.scrollTop;
    const viewport = this.scroller.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(count, Math.ceil((top + viewport) / ROW_HEIGHT) + OVERSCAN);
    const needed = last - first;
    while (this.pool.length < needed) this.pool.push(this.createRow());
    for (let k = 0; k < this.pool.length; k++) {
      const pooled = this.pool[k]!;
      if (k >= needed) {
        if (pooled.row !== -1) {
          pooled.root.hidden = true;
          pooled.row = -1;
        }
        continue;
      }
      const position = first + k;
      const row = this.visible[position]!;
      if (pooled.row === row && pooled.stamp === this.stamp && pooled.root.dataset['position'] === String(position)) continue;
      this.fill(pooled, row, position);
    }
  }

  /** Hides or shows the subtree under a row. */
  toggle(row: number): void {
    if (this.tree.childCount[row] === 0) return;
    this.collapsed[row] = this.collapsed[row] ? 0 : 1;
    this.refresh();
  }

  /** Selects a row (as a click does) and scrolls it into view. */
  select(row: number): void {
    this.selectedRow = row;
    this.stamp++;
    const position = this.visible.indexOf(row);
    if (position >= 0) {
      const y = position * ROW_HEIGHT;
      if (y < this.scroller.scrollTop || y + ROW_HEIGHT > this.scroller.scrollTop + this.scroller.clientHeight) this.scroller.scrollTop = y - ROW_HEIGHT * 2;
    }
    this.render();
    this.onSelect(this.tree.spans[this.tree.spanOfRow[row]!]!, row);
  }

  /** Stops listening to the window. */
  dispose(): void {
    window.removeEventListener('resize', this.onResize);
  }

  private readonly onResize = (): void => this.scheduleRender();

  private setAll(collapsed: boolean): void {
    const { childCount } = this.tree;
    for (let r = 0; r < childCount.length; r++) this.collapsed[r] = collapsed && childCount[r]! > 0 ? 1 : 0;
    this.refresh();
  }

  private refresh(): void {
    this.visible = visibleRows(this.tree, this.collapsed);
    this.stamp++;
    this.render();
  }

  private scheduleRender(): void {
    if (this.framePending) return;
    this.framePending = true;
    requestAnimationFrame(() => this.render());
  }

  private onClick(event: MouseEvent): void {
    const target = event.target as Element;
    const rowElement = target.closest<HTMLElement>('.span-row');
    if (!rowElement) return;
    const row = Number(rowElement.dataset['row']);
    if (target.closest('.toggle')) this.toggle(row);
    else this.select(row);
  }

  /** Up/Down move the selection, Left collapses, Right expands: the tree without a mouse. */
  private onKey(event: KeyboardEvent): void {
    const position = this.selectedRow < 0 ? -1 : this.visible.indexOf(this.selectedRow);
    let handled = true;
    if (event.key === 'ArrowDown') this.select(this.visible[Math.min(this.visible.length - 1, position + 1)]!);
    else if (event.key === 'ArrowUp') this.select(this.visible[Math.max(0, position - 1)]!);
    else if ((event.key === 'ArrowLeft' || event.key === 'ArrowRight') && position >= 0) {
      if ((this.collapsed[this.selectedRow] === 1) === (event.key === 'ArrowRight')) this.toggle(this.selectedRow);
    } else handled = false;
    if (handled) event.preventDefault();
  }

  private createRow(): PooledRow {
    const toggle = el('button', { type: 'button', class: 'toggle', tabindex: -1 });
    const depthMark = el('span', { class: 'depth-mark', title: 'Nesting depth (deeper rows stop indenting)' });
    const swatch = el('span', { class: 'swatch' });
    const name = el('span', { class: 'span-name' });
    const service = el('span', { class: 'span-service' });
    const orphan = el('span', { class: 'badge orphan', title: 'This span names a parent that never arrived' }, 'missing parent');
    const errorBadge = el('span', { class: 'badge error' }, 'error');
    const nameCol = el('div', { class: 'name-col' }, depthMark, toggle, swatch, name, service, orphan, errorBadge);
    const bar = el('div', { class: 'bar' });
    const label = el('span', { class: 'bar-label' });
    const root = el('div', { class: 'span-row', role: 'treeitem' }, nameCol, el('div', { class: 'timeline-col' }, bar, label));
    this.spacer.append(root);
    return { root, nameCol, toggle, depthMark, swatch, name, service, orphan, errorBadge, bar, label, row: -1, stamp: -1 };
  }

  private fill(pooled: PooledRow, row: number, position: number): void {
    const { tree } = this;
    const span = tree.spans[tree.spanOfRow[row]!]!;
    const depth = tree.depth[row]!;
    const hasChildren = tree.childCount[row]! > 0;
    const collapsed = this.collapsed[row] === 1;
    const orphan = tree.missingParent[row] === 1;
    const { root } = pooled;
    pooled.row = row;
    pooled.stamp = this.stamp;
    root.hidden = false;
    root.style.transform = `translateY(${position * ROW_HEIGHT}px)`;
    root.dataset['row'] = String(row);
    root.dataset['position'] = String(position);
    root.dataset['spanId'] = span.spanId;
    root.dataset['depth'] = String(depth);
    root.dataset['service'] = span.service;
    root.classList.toggle('selected', row === this.selectedRow);
    root.classList.toggle('error', span.error);
    root.classList.toggle('orphan', orphan);
    root.setAttribute('aria-level', String(depth + 1));
    if (hasChildren) root.setAttribute('aria-expanded', String(!collapsed));
    else root.removeAttribute('aria-expanded');

    pooled.nameCol.style.paddingLeft = `${4 + Math.min(depth, MAX_INDENT_LEVELS) * INDENT_PX}px`;
    pooled.depthMark.hidden = depth <= MAX_INDENT_LEVELS;
    if (depth > MAX_INDENT_LEVELS) pooled.depthMark.textContent = `↳${depth}`;
    pooled.toggle.classList.toggle('leaf', !hasChildren);
    pooled.toggle.textContent = hasChildren ? (collapsed ? '▸' : '▾') : '';
    pooled.toggle.title = hasChildren ? `${collapsed ? 'Expand' : 'Collapse'} ${tree.subtreeEnd[row]! - row} span(s) below` : '';
    const color = this.colorOf.get(span.service) ?? serviceColor(span.service);
    pooled.swatch.style.background = color;
    pooled.name.textContent = span.name;
    pooled.name.title = span.name;
    // The kind tells apart same-named spans (an HTTP server span and the client span under it).
    pooled.service.textContent = span.kind === 'unspecified' || span.kind === 'internal' ? span.service : `${span.service} · ${span.kind}`;
    pooled.orphan.hidden = !orphan;
    pooled.errorBadge.hidden = !span.error;

    const left = ((span.startMs - this.span0) / this.total) * 100;
    const width = (Math.max(0, span.durationMs) / this.total) * 100;
    pooled.bar.style.left = `${left}%`;
    pooled.bar.style.width = `${width}%`;
    pooled.bar.style.background = color;
    pooled.label.textContent = formatDuration(span.durationMs);
    // The duration sits right of the bar; inside its end when the bar reaches the edge; left of a
    // short bar near the edge.
    const inside = left + width >= 82 && width > 12;
    pooled.label.classList.toggle('inside', inside);
    if (left + width < 82) {
      pooled.label.style.left = `${left + width}%`;
      pooled.label.style.right = '';
    } else {
      pooled.label.style.left = '';
      pooled.label.style.right = `${100 - (inside ? left + width : left)}%`;
    }
  }

  /** The time axis: round steps (1, 2 or 5 × 10^k ms) from the trace's start. */
  private ticks(): HTMLDivElement {
    const column = el('div', { class: 'timeline-col' });
    const rough = this.total / 5;
    const magnitude = 10 ** Math.floor(Math.log10(rough));
    const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? rough;
    for (let t = 0; t < this.total * 0.9; t += step) {
      const tick = el('span', { class: 'tick' }, formatDuration(t));
      tick.style.left = `${(t / this.total) * 100}%`;
      column.append(tick);
    }
    const end = el('span', { class: 'tick last' }, formatDuration(this.total));
    end.style.left = '100%';
    column.append(end);
    return column;
  }
}
