import { defineInstrumentation } from '../../src/agent/instrumentation.js';
import { patchHttpModule, unpatchHttpModule } from './instrument.js';

/** Server spans for `https.Server`, client spans and injected context for `https.request`/`https.get`. */
export default defineInstrumentation({
  name: 'https',
  modules: [{ name: 'https', versions: '*' }],
  patch(exports, ctx) {
    patchHttpModule(exports, ctx, 'https');
  },
  unpatch(exports, ctx) {
    unpatchHttpModule(exports, ctx);
  },
});
