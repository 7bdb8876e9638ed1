import { defineInstrumentation } from '../../src/agent/instrumentation.js';
import { patchHttpModule } from './instrument.js';
import { readHttpOptions, type HttpOptions } from './options.js';

/** Server spans for `https.Server`, client spans and injected context for `https.request`/`https.get`. */
export default defineInstrumentation<HttpOptions>({
  options: readHttpOptions,
  patch(exports, ctx) {
    patchHttpModule(exports, ctx, 'https');
  },
});
