import satisfies = require('semver/functions/satisfies');
import valid = require('semver/functions/valid');
import { defineInstrumentation, type InstrumentationContext } from '../../src/agent/instrumentation.js';
import { guard } from '../../src/agent/instrumentation.js';
import { getServerSpan, internalError, nameServerSpan, notePendingError, serverSpanName } from './server-span.js';

/*
 * Fastify announces every instance it creates on the 'fastify.initialization' channel (4.x and
 * 5.x), so nothing of fastify's is wrapped: each new instance gets two root hooks, which fastify
 * applies to every plugin and route, prefixes included.
 * - onRequest: the route is matched by then; the server span is renamed after its template.
 * - onError: sees every error on its way to the error handler (thrown, rejected, reply.send(err));
 *   it is recorded if the answer is a 5xx, whoever wrote it.
 */

const CHANNEL = 'fastify.initialization';

interface FastifyRequest {
  raw?: object;
  method?: unknown;
  routeOptions?: { url?: unknown };
  routerPath?: unknown;
}
interface FastifyReply {
  raw?: object;
}
interface FastifyInstance {
  version?: unknown;
  addHook?(name: string, fn: Function): unknown;
}

// Every fastify copy publishes on the same channel: the first copy's `patch` subscribes for all.
let subscribed = false;

function routeOf(request: FastifyRequest): unknown {
  // routeOptions arrived in 4.10; reading routerPath on later versions prints a deprecation warning.
  const options = request.routeOptions;
  return options !== undefined ? options.url : request.routerPath;
}

/**
 * The route's template as fastify keeps it: `routeOptions.url` is `request[kRouteContext].config.url`,
 * but the `routeOptions` getter builds a new object of a dozen fields (and asks the router about
 * version constraints) on every read. The context's key is a private symbol of each fastify copy
 * (`Symbol('fastify.context')`, 4.x and 5.x), found on the first request of each instance; without
 * it (another shape), the public getter is read as before.
 */
function makeRouteReader(): (request: FastifyRequest) => unknown {
  let contextKey: symbol | null | undefined;
  return (request) => {
    if (contextKey === undefined) contextKey = findContextKey(request);
    if (contextKey !== null) {
      const context = (request as Record<symbol, { config?: { url?: unknown } } | undefined>)[contextKey];
      if (context !== undefined && context !== null) return context.config?.url;
    }
    return routeOf(request);
  };
}

function findContextKey(request: FastifyRequest): symbol | null {
  for (const key of Object.getOwnPropertySymbols(request)) {
    if (key.description !== 'fastify.context') continue;
    const context = (request as Record<symbol, unknown>)[key] as { config?: { url?: unknown } } | null;
    // Trusted only when it says what the public getter says.
    if (context !== null && typeof context === 'object' && context.config?.url === routeOf(request)) return key;
  }
  return null;
}

/** A route template's span name for the method it was last asked with. */
interface RouteName {
  method: unknown;
  operation: string;
}

// Route template → its span name, so that a route's requests share one flat string instead of each
// making a `${method} ${route}` concatenation that the exporter's encoder then flattens (a runtime call
// and a copy per exported span). Keys are templates of registered routes (finitely many); the cap is
// for an app that registers routes without end.
const NAMES_CAP = 1024;
const namesByRoute = new Map<string, RouteName>();
let lastRoute = '';
let lastName: RouteName | undefined;

function operationOf(method: unknown, route: string): string {
  let names = lastName;
  if (names === undefined || route !== lastRoute) {
    names = namesByRoute.get(route);
    if (names === undefined) {
      names = { method: undefined, operation: '' };
      if (namesByRoute.size < NAMES_CAP) namesByRoute.set(route, names);
    }
    lastRoute = route;
    lastName = names;
  }
  if (names.method !== method || names.operation === '') {
    names.operation = serverSpanName(method, route);
    names.method = method;
  }
  return names.operation;
}

function makeOnRequest(): (request: FastifyRequest, reply: unknown, done: () => void) => void {
  const routeOfRequest = makeRouteReader();
  return function onRequestWithTrace(request: FastifyRequest, _reply: unknown, done: () => void): void {
    try {
      const span = request.raw === undefined ? undefined : getServerSpan(request.raw);
      if (span !== undefined && span.isRecording()) {
        const url = routeOfRequest(request);
        // The not-found handler has no route of its own: the span keeps the bare method.
        if (typeof url === 'string' && url !== '') {
          const method = request.method;
          nameServerSpan(span, method, url, 'fastify', operationOf(method, url));
        }
        else span.setTag('component', 'fastify');
      }
    } catch (err) {
      internalError('fastify onRequest', err);
    }
    done();
  };
}

function onErrorWithTrace(request: FastifyRequest, reply: FastifyReply, error: unknown, done: () => void): void {
  guard('fastify onError', () => {
    const span = request.raw === undefined ? undefined : getServerSpan(request.raw);
    if (span !== undefined) notePendingError(reply.raw, span, error);
  }, undefined);
  done();
}

function instrumentInstance(ctx: InstrumentationContext, versions: string, message: unknown): void {
  const app = (message as { fastify?: FastifyInstance } | null)?.fastify;
  if (app === undefined || app === null || typeof app.addHook !== 'function') return;
  const version = typeof app.version === 'string' ? app.version : '';
  if (valid(version) === null || !satisfies(version, versions)) {
    ctx.log.debug(`fastify ${version || '(unknown version)'} is outside ${versions}: left untouched`);
    return;
  }
  app.addHook('onRequest', makeOnRequest());
  app.addHook('onError', onErrorWithTrace);
}

/** Names fastify's server spans after the route (plugin prefixes included) and records its errors. */
export default defineInstrumentation({
  patch(_fastify, ctx, target) {
    if (subscribed) return;
    subscribed = true;
    // Any copy may publish, in range or not: each instance is checked against the declared range.
    ctx.subscribe(CHANNEL, (message) => ctx.guard('fastify instance', () => instrumentInstance(ctx, target.versions, message), undefined));
  },
});
