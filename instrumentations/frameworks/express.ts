import type { Span } from '../../src/agent/instrumentation.js';
import type { Tracer } from '../../src/agent/instrumentation.js';
import { defineInstrumentation } from '../../src/agent/instrumentation.js';
import { guard, writableTags } from '../../src/agent/instrumentation.js';
import { FRAMEWORK_STATE, getServerSpan, internalError, nameServerSpan, notePendingError, readFrameworkOptions, type FrameworkContext, type FrameworkOptions } from './server-span.js';
import { joinTemplate, pathTemplate } from './route-template.js';

/*
 * How express is traced without touching anything it hands around:
 * - Router `handle` (the entry of every router and app): the outermost call of a request keeps
 *   a small state on the request and sees the error, if any, that leaves the app.
 * - Router `use`: the layers it adds get their mount template as a symbol-keyed property.
 * - Layer `handle_request`/`handleRequest` and `handle_error`/`handleError` (found on the first
 *   layer, as express does not export Layer): a mount layer records its template; a route layer
 *   renames the server span after mounts + route; error handlers see the error in flight.
 * Handlers, `next`, `req` and `res` are never replaced.
 */

// The request's state lives in the slot the http instrumentation added to every recording request.
const STATE = FRAMEWORK_STATE;
// Layers and routers run on every request: their wrappers guard their own code (see makeLayerWrapper).
const OWN_GUARD = { ownGuard: true } as const;
const MOUNT_TEMPLATE = Symbol('acme.tracing.expressMount');
// On each Route object (set when `route()` creates it, so every Route has it from the start and
// keeps one shape): its template, and the names last composed from it.
const ROUTE_NAMES = Symbol('acme.tracing.expressRouteNames');

/**
 * A route's template and its last composed names: a route is matched under the same mounts and
 * with the same method request after request, so the span's name and `http.route` are built once
 * instead of one template and two string concatenations per request.
 */
interface RouteNames {
  template: string | undefined;
  prefix: string;
  method: unknown;
  route: string;
  operation: string;
}

/** A mount point the request went through: its template, and how long req.baseUrl was there. */
interface Mount {
  baseLength: number;
  template: string;
}

interface RequestState {
  span: Span;
  mounts: Mount[] | null;
  /** The open middleware span (option `middlewareSpans`), ended when the next layer starts. */
  middlewareSpan: Span | null;
}

interface Route {
  path?: unknown;
  [ROUTE_NAMES]?: RouteNames;
}

interface Layer {
  handle?: unknown;
  name?: unknown;
  route?: Route;
  method?: unknown;
  [MOUNT_TEMPLATE]?: string;
}

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;
type Req = { [STATE]?: RequestState; baseUrl?: unknown; method?: unknown } | null | undefined;

// No mark is kept on an unsampled request to turn the lookup below into a hit: a symbol-keyed
// property added to a request express has re-parented (setPrototypeOf onto app.request) made every
// later property access of the router on it slower (express-router.mjs: +2.7 µs a request).
function stateOf(req: unknown): RequestState | undefined {
  if (req === null || typeof req !== 'object') return undefined;
  // null: the slot of a recording request no router has seen yet.
  return (req as { [STATE]?: RequestState | null })[STATE] ?? undefined;
}

function baseLength(req: Req): number {
  const base = req?.baseUrl;
  return typeof base === 'string' ? base.length : 0;
}

/** Drops the mounts the request is no longer under (deeper than, or siblings at, `keepBelow`). */
function truncateMounts(mounts: Mount[], keepUpTo: number): void {
  while (mounts.length > 0 && mounts[mounts.length - 1]!.baseLength > keepUpTo) mounts.pop();
}

function routeNamesOf(route: Route): RouteNames {
  let names = route[ROUTE_NAMES];
  if (names === undefined) {
    // A route made before express was patched (not under the loader): learnt at its first request.
    names = newRouteNames(route.path);
    route[ROUTE_NAMES] = names;
  }
  return names;
}

function newRouteNames(path: unknown): RouteNames {
  return { template: pathTemplate(path), prefix: '', method: undefined, route: '', operation: '' };
}

/** Renames the server span after the route: mounts + the route's template, composed once per change. */
function nameAfterRoute(state: RequestState, req: Req, route: Route): void {
  let prefix = '';
  const mounts = state.mounts;
  if (mounts !== null) {
    truncateMounts(mounts, baseLength(req));
    for (const m of mounts) prefix += m.template;
  }
  const names = routeNamesOf(route);
  const method = req?.method;
  if (names.method !== method || names.prefix !== prefix || names.route === '') {
    names.route = joinTemplate(prefix, names.template);
    names.operation = typeof method === 'string' ? `${method} ${names.route}` : names.route;
    names.prefix = prefix;
    names.method = method;
  }
  nameServerSpan(state.span, method, names.route, 'express', names.operation);
}

/** Bookkeeping when a layer starts; returns the middleware span to activate, if any. */
function enterLayer(tracer: Tracer, options: FrameworkOptions, state: RequestState, layer: Layer, req: Req, isError: boolean): Span | undefined {
  if (state.middlewareSpan !== null) {
    state.middlewareSpan.finish();
    state.middlewareSpan = null;
  }
  const template = layer[MOUNT_TEMPLATE];
  if (template !== undefined) {
    const mounts = (state.mounts ??= []);
    const here = baseLength(req);
    truncateMounts(mounts, here - 1);
    mounts.push({ baseLength: here, template });
  }
  const route = layer.route;
  if (route !== undefined && route !== null && !isError) nameAfterRoute(state, req, route);
  if (!options.middlewareSpans || (route !== undefined && route !== null)) return undefined;
  const handle = layer.handle;
  if (typeof handle !== 'function' || typeof (handle as { handle?: unknown }).handle === 'function') return undefined; // routers and apps
  if ((handle.length === 4) !== isError) return undefined; // express skips it without calling it
  // Route handlers are layers of their own (inside the route), so they get a span here too.
  const span = tracer.startSpan(`middleware - ${String(layer.name ?? '<anonymous>')}`, { childOf: state.span });
  span.setTag('component', 'express');
  state.middlewareSpan = span;
  return span;
}

/** Shared response listener: ends a middleware span the app never moved past. */
function endMiddlewareSpan(this: { [STATE]?: RequestState }): void {
  const state = stateOf(this);
  if (state?.middlewareSpan) {
    state.middlewareSpan.finish();
    state.middlewareSpan = null;
  }
}

// Installed with `ownGuard` (every layer of every request comes through here): the wrapper catches
// its own errors and calls the original as it is, without the generic guard layer's two extra calls.
// Express calls `handleRequest(req, res, next)` and `handleError(err, req, res, next)`: the wrappers
// take and pass exactly those, so that no `arguments` object is made for each layer of each request.
function makeLayerWrapper(tracer: Tracer, options: FrameworkOptions) {
  return (original: AnyFunction): AnyFunction =>
    function layerWithTrace(this: unknown, req: unknown, res: unknown, next: unknown): unknown {
      let span: Span | undefined;
      try {
        const state = stateOf(req);
        if (state !== undefined) span = enterLayer(tracer, options, state, this as Layer, req as Req, false);
      } catch (err) {
        internalError('express layer', err);
      }
      if (span === undefined) return original.call(this, req, res, next);
      const layer = this;
      return tracer.scopeManager.run(span, () => original.call(layer, req, res, next));
    };
}

function makeErrorLayerWrapper(tracer: Tracer, options: FrameworkOptions) {
  return (original: AnyFunction): AnyFunction =>
    function errorLayerWithTrace(this: unknown, error: unknown, req: unknown, res: unknown, next: unknown): unknown {
      let span: Span | undefined;
      try {
        const state = stateOf(req);
        if (state !== undefined) {
          notePendingError(res, state.span, error);
          span = enterLayer(tracer, options, state, this as Layer, req as Req, true);
        }
      } catch (err) {
        internalError('express layer', err);
      }
      if (span === undefined) return original.call(this, error, req, res, next);
      const layer = this;
      return tracer.scopeManager.run(span, () => original.call(layer, error, req, res, next));
    };
}

function patchLayerPrototype(ctx: FrameworkContext, options: FrameworkOptions, layer: unknown): void {
  if (layer === null || typeof layer !== 'object') return;
  const proto = Object.getPrototypeOf(layer) as Record<string | symbol, unknown> | null;
  // Called on every `use`/`route` (app set-up, not requests): `wrap` leaves an agent wrapper alone.
  if (proto === null) return;
  // express 4 names them handle_request/handle_error; router 2 (express 5) handleRequest/handleError.
  const requestKey = typeof proto.handleRequest === 'function' ? 'handleRequest' : typeof proto.handle_request === 'function' ? 'handle_request' : undefined;
  const errorKey = typeof proto.handleError === 'function' ? 'handleError' : typeof proto.handle_error === 'function' ? 'handle_error' : undefined;
  if (requestKey === undefined || errorKey === undefined) {
    ctx.log.debug(`express: layer shape not recognised (version ${ctx.moduleVersion}); routes are not named`);
    return;
  }
  ctx.wrap(proto, requestKey, makeLayerWrapper(ctx.tracer, options) as never, OWN_GUARD);
  ctx.wrap(proto, errorKey, makeErrorLayerWrapper(ctx.tracer, options) as never, OWN_GUARD);
}

/** `use` and `route` add layers: tag mounts with their template, and find the Layer prototype. */
function makeStackWrapper(ctx: FrameworkContext, options: FrameworkOptions, isUse: boolean) {
  return (original: AnyFunction): AnyFunction =>
    function stackWithTrace(this: unknown): unknown {
      const stack = (this as { stack?: unknown } | null)?.stack;
      const before = Array.isArray(stack) ? stack.length : -1;
      const result = original.apply(this, arguments as unknown as unknown[]);
      if (before >= 0) {
        const first = arguments[0];
        guard('express use', () => {
          const layers = stack as Layer[];
          if (layers.length > before) patchLayerPrototype(ctx, options, layers[layers.length - 1]);
          if (!isUse && result !== null && typeof result === 'object') (result as Route)[ROUTE_NAMES] = newRouteNames((result as Route).path);
          const template = isUse ? pathTemplate(first) : undefined;
          if (template === undefined) return;
          for (let i = before; i < layers.length; i++) {
            const layer = layers[i];
            if (layer !== null && typeof layer === 'object') layer[MOUNT_TEMPLATE] = template;
          }
        }, undefined);
      }
      return result;
    };
}

// Installed with `ownGuard` (every router of every request comes through here), like the layers.
function makeHandleWrapper(options: FrameworkOptions) {
  return (original: AnyFunction): AnyFunction =>
    function handleWithTrace(this: unknown, req: unknown, res: unknown, out: unknown): unknown {
      let outWithTrace: AnyFunction | undefined;
      try {
        outWithTrace = traceOutermost(options, req, res, out);
      } catch (err) {
        internalError('express handle', err);
      }
      if (outWithTrace === undefined) return original.apply(this, arguments as unknown as unknown[]);
      return original.call(this, req, res, outWithTrace);
    };
}

/**
 * For the outermost router of a traced request: keeps the request's state on it and returns the
 * `out` (done) to hand the router instead, which sees the error that leaves the app. Undefined for
 * every other call (inner routers, untraced or unsampled requests): the router gets its arguments as they are.
 */
function traceOutermost(options: FrameworkOptions, req: unknown, res: unknown, out: unknown): AnyFunction | undefined {
  // A request a router has seen already (an inner router, a sub-app): only the outermost traces.
  if (typeof out !== 'function' || req === null || typeof req !== 'object' || stateOf(req) !== undefined) return undefined;
  const span = getServerSpan(req);
  if (span === undefined || !span.isRecording()) return undefined;
  const state: RequestState = { span, mounts: null, middlewareSpan: null };
  (req as { [STATE]?: RequestState })[STATE] = state;
  // The span's tag store (recording, checked above): one monomorphic write, not the shared setTag.
  const tags = writableTags(span);
  if (tags !== null) tags.component = 'express';
  if (options.middlewareSpans && res !== null && typeof res === 'object' && typeof (res as { once?: unknown }).once === 'function') {
    (res as { [STATE]?: RequestState })[STATE] = state;
    (res as { once(e: string, f: () => void): void }).once('finish', endMiddlewareSpan);
    (res as { once(e: string, f: () => void): void }).once('close', endMiddlewareSpan);
  }
  const done = out as AnyFunction;
  return function outWithTrace(this: unknown, err?: unknown): unknown {
    try {
      endMiddlewareSpan.call(req as { [STATE]?: RequestState });
      if (err !== 'route' && err !== 'router') notePendingError(res, span, err);
    } catch (e) {
      internalError('express done', e);
    }
    return done.apply(this, arguments as unknown as unknown[]);
  };
}

function routerPrototype(Router: unknown): Record<string, unknown> | undefined {
  if (typeof Router !== 'function') return undefined;
  // express 5's Router (the `router` package) is a class; express 4's is the prototype object itself.
  const proto = (Router as { prototype?: Record<string, unknown> }).prototype;
  if (proto !== undefined && typeof proto.handle === 'function') return proto;
  const own = Router as unknown as Record<string, unknown>;
  return typeof own.handle === 'function' ? own : undefined;
}

/** Names express's server spans after the matched route and records the errors that reach its router. */
export default defineInstrumentation<FrameworkOptions>({
  options: readFrameworkOptions,
  patch(express, ctx) {
    const proto = routerPrototype(express?.Router);
    if (proto === undefined) {
      ctx.log.debug(`express ${ctx.moduleVersion}: no Router found, left untouched`);
      return;
    }
    const options = ctx.options;
    ctx.wrap(proto, 'handle', makeHandleWrapper(options) as never, OWN_GUARD);
    ctx.wrap(proto, 'use', makeStackWrapper(ctx, options, true) as never);
    ctx.wrap(proto, 'route', makeStackWrapper(ctx, options, false) as never);
  },
});
