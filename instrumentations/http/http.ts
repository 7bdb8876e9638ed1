import { defineInstrumentation } from '../../src/agent/instrumentation.js';
import { patchHttpModule } from './instrument.js';
import { readHttpOptions, type HttpOptions } from './options.js';

/** Server spans for `http.Server`, client spans and injected context for `http.request`/`http.get`. */
export default defineInstrumentation<HttpOptions>({
  options: readHttpOptions,
  patch(exports, ctx) {
    patchHttpModule(exports, ctx, 'http');
  },
});
