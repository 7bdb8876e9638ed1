// Display formatting shared by the list and the trace page. DOM-free.

/** A duration in milliseconds as a short human string: 840µs, 12.4ms, 3.21s, 2m 5s. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (ms === 0) return '0';
  if (ms < 1) return `${Math.round(ms * 1000)}µs`;
  if (ms < 10) return `${ms.toFixed(2)}ms`;
  if (ms < 1000) return `${ms.toFixed(ms < 100 ? 1 : 0)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes}m ${Math.round((ms - minutes * 60_000) / 1000)}s`;
}

/** A wall-clock time: the time of day for today, the date and time otherwise. */
export function formatStart(ms: number, now = Date.now()): string {
  const date = new Date(ms);
  const time = date.toLocaleTimeString(undefined, { hour12: false }) + '.' + String(date.getMilliseconds()).padStart(3, '0');
  return new Date(now).toDateString() === date.toDateString() ? time : `${date.toLocaleDateString()} ${time}`;
}

/** A stable colour per service: the same name gets the same hue on every page and every load. */
export function serviceColor(service: string): string {
  // FNV-1a: cheap, and close names ("orders-a", "orders-b") still land far apart.
  let hash = 0x811c9dc5;
  for (let i = 0; i < service.length; i++) {
    hash ^= service.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  const hue = (hash >>> 0) % 360;
  const lightness = 42 + ((hash >>> 9) % 3) * 8;
  return `hsl(${hue}, 62%, ${lightness}%)`;
}

/** An attribute value as text: strings as they are, anything else as JSON. */
export function valueText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
}

/** Whether a string is a full trace id (32 hex characters). */
export function isTraceId(text: string): boolean {
  return /^[0-9a-f]{32}$/.test(text);
}
