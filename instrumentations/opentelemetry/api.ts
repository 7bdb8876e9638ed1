import type * as otel from '@opentelemetry/api';
import { defineInstrumentation, type InstrumentationContext, type Tracer } from '../../src/agent/instrumentation.js';
import { SpanBridge } from './bridge.js';
import { BridgeContextManager } from './context-manager.js';
import { BridgePropagator } from './propagator.js';
import { BridgeTracerProvider } from './tracer.js';

/** Where every copy of `@opentelemetry/api` 1.x keeps its registrations (tracer provider, context manager, propagator, diag). */
const GLOBAL_KEY = Symbol.for('opentelemetry.js.api.1');

interface GlobalRegistrations {
  version: string;
  trace?: unknown;
  context?: unknown;
  propagation?: unknown;
  diag?: unknown;
}

/** The parts of a copy of the API the bridge uses. */
interface ApiCopy {
  trace: { setGlobalTracerProvider(p: otel.TracerProvider): boolean; getTracerProvider(): otel.TracerProvider };
  context: { setGlobalContextManager(m: otel.ContextManager): boolean };
  propagation: { setGlobalPropagator(p: otel.TextMapPropagator): boolean };
}

function isApiCopy(exports: unknown): exports is ApiCopy {
  const api = exports as Partial<ApiCopy> | null;
  return api !== null && typeof api === 'object'
    && typeof api.trace?.setGlobalTracerProvider === 'function' && typeof api.trace.getTracerProvider === 'function'
    && typeof api.context?.setGlobalContextManager === 'function'
    && typeof api.propagation?.setGlobalPropagator === 'function';
}

function globals(): GlobalRegistrations | undefined {
  return (globalThis as Record<symbol, GlobalRegistrations | undefined>)[GLOBAL_KEY];
}

/** What the agent registered, while it is registered. */
interface Registered {
  provider: BridgeTracerProvider;
  contextManager: BridgeContextManager;
  propagator: BridgePropagator;
  /** What the API put in the global slot for `trace` (its ProxyTracerProvider, delegating to ours). */
  traceSlot: unknown;
}

let registered: Registered | null = null;
let someoneElse = false;
let pending = false;
/** Every copy seen load, with its version ('' when unknown). */
const copies: Array<{ api: ApiCopy; version: string }> = [];

/** Parses `1.9.1` → [1, 9]; null for anything else. */
function majorMinor(version: string): [number, number] | null {
  const m = /^(\d+)\.(\d+)\.\d+$/.exec(version);
  return m === null ? null : [Number(m[1]), Number(m[2])];
}

/**
 * Serves `@opentelemetry/api` with our tracer. Any copy of the API reads its registrations from one
 * global object. Registration waits for the end of the current tick: an SDK set up in the same
 * synchronous stretch that loaded the API (OpenTelemetry's zero-code agent, `sdk.start()` at the top of
 * the app) is then already there, and is left in charge. Otherwise ours is registered through a copy's
 * own `setGlobal*` functions. A copy reads the registration only if its version is not newer than the
 * one recorded with it (the API's own rule): the agent records the newest version it saw, which older
 * copies still accept. An SDK registered later makes the agent step aside (see `stepAside`).
 */
function adopt(api: ApiCopy, version: string, tracer: Tracer, ctx: InstrumentationContext): void {
  copies.push({ api, version });
  watchForSdk(api, version, ctx);
  if (registered !== null) makeReadable(api, version, ctx);
  else if (!pending && !someoneElse) {
    pending = true;
    process.nextTick(() => {
      pending = false;
      try {
        register(tracer, ctx);
      } catch (err) {
        ctx.log.debug(`could not serve @opentelemetry/api: ${String(err)}`);
      }
    });
  }
}

function register(tracer: Tracer, ctx: InstrumentationContext): void {
  const g = globals();
  if (g !== undefined && g.trace !== undefined) {
    if (!someoneElse) {
      someoneElse = true;
      ctx.log.info('an OpenTelemetry SDK is registered: it stays in charge of OpenTelemetry spans (the agent does not serve @opentelemetry/api)');
    }
    return;
  }
  // Through the newest copy seen, so every copy seen can read the registration.
  let via = copies[0]!;
  for (const c of copies) {
    const a = majorMinor(c.version);
    const b = majorMinor(via.version);
    if (a !== null && (b === null || a[1] > b[1])) via = c;
  }
  const bridge = new SpanBridge(tracer);
  const contextManager = new BridgeContextManager(bridge);
  const provider = new BridgeTracerProvider(bridge, contextManager);
  const propagator = new BridgePropagator(bridge);
  if (!via.api.trace.setGlobalTracerProvider(provider)) {
    ctx.log.debug('@opentelemetry/api refused our tracer provider (another version registered something first); OpenTelemetry spans are not bridged');
    return;
  }
  const slot = globals()?.trace;
  via.api.context.setGlobalContextManager(contextManager);
  via.api.propagation.setGlobalPropagator(propagator);
  registered = { provider, contextManager, propagator, traceSlot: slot };
  ctx.log.debug(`serving @opentelemetry/api${via.version === '' ? '' : `@${via.version}`}: OpenTelemetry spans are the agent's spans`);
  for (const c of copies) if (c !== via) makeReadable(c.api, c.version, ctx);
}

/** Makes sure a copy reads our registration: a newer copy than the registering one gets its version recorded. */
function makeReadable(api: ApiCopy, version: string, ctx: InstrumentationContext): void {
  const g = globals();
  if (registered === null || g === undefined || g.trace !== registered.traceSlot || api.trace.getTracerProvider() === registered.traceSlot) return;
  const mine = majorMinor(version);
  const theirs = majorMinor(g.version);
  if (mine !== null && theirs !== null && mine[0] === theirs[0] && mine[1] > theirs[1]) {
    g.version = version;
    ctx.log.debug(`@opentelemetry/api@${version} loaded after an older copy registered: the registration is marked ${version} so both read it`);
  } else ctx.log.debug(`a copy of @opentelemetry/api${version === '' ? '' : `@${version}`} cannot read the agent's registration; its spans are not bridged`);
}

/**
 * An SDK registered after ours would fail (the API refuses a second registration): before it
 * registers, the agent takes its own registrations out, so the SDK's succeeds and is in charge from
 * then on. Tracers already handed out by the API keep reaching ours (the API caches them); one info line.
 */
function watchForSdk(api: ApiCopy, version: string, ctx: InstrumentationContext): void {
  const guardStep = <T>(original: (this: unknown, value: T) => boolean, ours: (r: Registered) => unknown) =>
    function (this: unknown, value: T): boolean {
      if (registered !== null && value !== ours(registered)) stepAside(version, ctx);
      return original.apply(this, arguments as unknown as [T]);
    };
  ctx.wrap(api.trace, 'setGlobalTracerProvider', (original) => {
    const wrapped = guardStep(original, (r) => r.provider);
    return function setGlobalTracerProviderWithTrace(this: unknown, provider: otel.TracerProvider) {
      return wrapped.call(this, provider);
    };
  });
  ctx.wrap(api.context, 'setGlobalContextManager', (original) => {
    const wrapped = guardStep(original, (r) => r.contextManager);
    return function setGlobalContextManagerWithTrace(this: unknown, manager: otel.ContextManager) {
      return wrapped.call(this, manager);
    };
  });
  ctx.wrap(api.propagation, 'setGlobalPropagator', (original) => {
    const wrapped = guardStep(original, (r) => r.propagator);
    return function setGlobalPropagatorWithTrace(this: unknown, propagator: otel.TextMapPropagator) {
      return wrapped.call(this, propagator);
    };
  });
}

function stepAside(version: string, ctx: InstrumentationContext): void {
  const r = registered;
  if (r === null) return;
  registered = null;
  someoneElse = true;
  const g = globals();
  if (g !== undefined) {
    if (g.trace === r.traceSlot) delete g.trace;
    if (g.context === r.contextManager) delete g.context;
    if (g.propagation === r.propagator) delete g.propagation;
    // The API refuses a registration from a copy whose version differs from the one recorded.
    if (version !== '') g.version = version;
    else if (g.trace === undefined && g.context === undefined && g.propagation === undefined && g.diag === undefined) {
      delete (globalThis as Record<symbol, unknown>)[GLOBAL_KEY];
    }
  }
  ctx.log.info('the app registered its own OpenTelemetry SDK: it is in charge of OpenTelemetry spans from now on (the agent stopped serving @opentelemetry/api)');
}

/**
 * Serves the OpenTelemetry API (`@opentelemetry/api` 1.x, and the copy compiled into Next.js) with
 * the agent's tracer, scope manager and propagators when no OpenTelemetry SDK is registered:
 * OpenTelemetry spans become our spans, in our traces, exported by our pipeline.
 */
const opentelemetryApi = defineInstrumentation({
  patch(exports: unknown, ctx, target) {
    if (!isApiCopy(exports)) {
      ctx.log.debug(`${target.name}${target.file ? `/${target.file}` : ''} does not look like @opentelemetry/api 1.x; left alone`);
      return;
    }
    adopt(exports, target.name === '@opentelemetry/api' ? ctx.moduleVersion : '', ctx.tracer, ctx);
  },
});

export default opentelemetryApi;
