/**
 * Names accepted in `TRACING_PROPAGATION` (and `OTEL_PROPAGATORS`, whose names they are):
 * `tracecontext`, `baggage`, `b3` (one `b3` header on inject), `b3multi` (`X-B3-*` headers),
 * `jaeger`, and `none` (propagate nothing). No imports: the configuration reads it without loading
 * any propagator.
 */
export const PROPAGATOR_NAMES: readonly string[] = ['tracecontext', 'baggage', 'b3', 'b3multi', 'jaeger', 'none'];
