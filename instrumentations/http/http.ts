import { defineInstrumentation } from '../../src/agent/instrumentation.js';
import { patchHttpModule, unpatchHttpModule } from './instrument.js';

/** Server spans for `http.Server`, client spans and injected context for `http.request`/`http.get`. */
export default defineInstrumentation({
  name: 'http',
  modules: [{ name: 'http', versions: '*' }],
  patch(exports, ctx) {
    patchHttpModule(exports, ctx, 'http');
  },
  unpatch(exports, ctx) {
    unpatchHttpModule(exports, ctx);
  },
});
