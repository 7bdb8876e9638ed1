// What the router gives a view and gets back.
import type { StoreStats } from '../model.js';

/** A page view; `dispose` stops its timers and listeners before the next view replaces it. */
export interface View {
  dispose(): void;
}

/** What every view may ask of the page. */
export interface ViewContext {
  /** Goes to a page path with history.pushState (no reload). */
  navigate(path: string): void;
  /** Shows the store's numbers in the header. */
  showStats(stats: StoreStats): void;
}
