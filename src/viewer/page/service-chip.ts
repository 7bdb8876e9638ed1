// The service label used everywhere on the page: its stable colour and its name.
import { el } from './dom.js';
import { serviceColor } from './format.js';

/** A service name with its colour swatch. */
export function serviceChip(service: string): HTMLSpanElement {
  const swatch = el('span', { class: 'swatch' });
  swatch.style.background = serviceColor(service);
  return el('span', { class: 'service-chip', 'data-service': service }, swatch, service);
}
