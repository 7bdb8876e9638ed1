import { defineInstrumentation } from '../../src/agent/instrumentation.js';
import { guard } from '../../src/agent/instrumentation.js';
import { getServerSpan, internalError, nameServerSpan, notePendingError } from './server-span.js';

/*
 * hapi exports only its Server, so this patches its Request class (lib/request.js):
 * - `_lookup` matches the route: the server span is renamed after `request.route.path`, which
 *   hapi has already prefixed with plugin prefixes and writes with its `{id}` params. The
 *   built-in not-found route is special and names nothing.
 * - `_setResponse` receives every response, errors included (thrown, rejected, returned Boom):
 *   an error is recorded if the answer is a 5xx, so a Boom 4xx or an onPreResponse that turns the
 *   error into a page of its own is not.
 * Both are internals, which is why the range is one major.
 */

interface HapiRequest {
  raw?: { req?: { method?: unknown }; res?: object };
  _route?: { _special?: unknown; path?: unknown };
}
type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

function serverSpanOf(request: HapiRequest) {
  const req = request.raw?.req;
  return req === undefined ? undefined : getServerSpan(req);
}

function lookupWrapper(original: AnyFunction): AnyFunction {
  return function lookupWithTrace(this: unknown): unknown {
    const result = original.apply(this, arguments as unknown as unknown[]);
    const request = this as HapiRequest;
    try {
      const span = serverSpanOf(request);
      if (span !== undefined && span.isRecording()) {
        span.setTag('component', 'hapi');
        const route = request._route;
        // hapi's not-found route is "special" ('/{p*}'): it names nothing.
        if (route !== undefined && route._special !== true && typeof route.path === 'string') nameServerSpan(span, request.raw?.req?.method, route.path, 'hapi');
      }
    } catch (err) {
      internalError('hapi route', err);
    }
    return result;
  };
}

function setResponseWrapper(original: AnyFunction): AnyFunction {
  return function setResponseWithTrace(this: unknown, response: unknown): unknown {
    if (response instanceof Error) {
      const request = this as HapiRequest;
      guard('hapi error', () => {
        const span = serverSpanOf(request);
        if (span !== undefined) notePendingError(request.raw?.res, span, response);
      }, undefined);
    }
    return original.apply(this, arguments as unknown as unknown[]);
  };
}

/** Names hapi's server spans after the route template and records the errors it answers with a 5xx. */
export default defineInstrumentation({
  patch(Request, ctx) {
    const proto = Request?.prototype;
    if (proto === undefined || typeof proto._lookup !== 'function' || typeof proto._setResponse !== 'function') {
      ctx.log.debug(`hapi ${ctx.moduleVersion}: request internals not recognised, left untouched`);
      return;
    }
    ctx.wrap(proto, '_lookup', lookupWrapper as never);
    ctx.wrap(proto, '_setResponse', setResponseWrapper as never);
  },
});
