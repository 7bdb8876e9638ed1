import { defineInstrumentation, type ModuleTarget } from '../../src/agent/instrumentation.js';
import { patchClient } from './client.js';
import { patchServer } from './server.js';

/**
 * `@grpc/grpc-js` 1.x: a client span per call (unary, client-streaming, server-streaming, bidi) with the
 * context injected into the call's metadata, and a server span per handled call, extracted from it.
 * Two files (declared in instrumentations/index.ts) are patched rather than the package's entry: make-client copies the client's request
 * methods as it loads, so they must be wrapped before that happens.
 */
export default defineInstrumentation({
  patch(exports: { Client?: { prototype: Record<string, (...args: any[]) => any> }; Server?: { prototype: Record<string, (...args: any[]) => any> } }, ctx, target: ModuleTarget) {
    if (target.file === 'build/src/client.js' && exports.Client !== undefined) patchClient(exports.Client, ctx);
    else if (target.file === 'build/src/server.js' && exports.Server !== undefined) patchServer(exports.Server, ctx);
  },
});
