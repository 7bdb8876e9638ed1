import t from 'tap';
import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Tracer, AsyncLocalScopeManager } from '../../../src/index.js';
import { LinkedScope } from '../../../src/scope/scope-manager.js';
import { isTracingSuppressed, suppressTracing } from '../../../src/util/suppress.js';

// suppressTracing's flag lives in the scope manager's store: one AsyncLocalStorage for the agent
// (on Node 20 each enabled one costs every async resource of the app a propagation step).

t.test('suppression and the active span share one AsyncLocalStorage', async (t) => {
  const used = new Set<AsyncLocalStorage<unknown>>();
  const proto = AsyncLocalStorage.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  const originals = { run: proto.run!, enterWith: proto.enterWith! };
  for (const name of ['run', 'enterWith'] as const) {
    proto[name] = function (this: AsyncLocalStorage<unknown>, ...args: unknown[]) {
      // Only the agent's stores: a scope, or the `true` a separate suppression storage would hold.
      if (args[0] === true || args[0] instanceof LinkedScope) used.add(this);
      return originals[name].apply(this, args);
    };
  }
  t.teardown(() => Object.assign(proto, originals));
  const tracer = new Tracer();
  const span = tracer.startSpan('request');
  await tracer.scopeManager.run(span, () => suppressTracing(async () => {
    const inner = tracer.scopeManager.activate(tracer.startSpan('inner'), true);
    await sleep(1);
    inner.close();
  }));
  tracer.scopeManager.activate(span, false).close();
  t.equal(used.size, 1, 'one storage for scopes and suppression');
});

t.test('suppressed code keeps the active span, and stays suppressed on later ticks and through scopes opened inside', async (t) => {
  const tracer = new Tracer();
  const span = tracer.startSpan('request');
  t.equal(isTracingSuppressed(), false);
  await tracer.scopeManager.run(span, async () => {
    await suppressTracing(async () => {
      t.equal(isTracingSuppressed(), true, 'inside');
      t.equal(tracer.activeSpan(), span, 'the active span is unchanged');
      await sleep(1);
      t.equal(isTracingSuppressed(), true, 'after a timer');
      const scope = tracer.scopeManager.activate(tracer.startSpan('inner'), true);
      t.equal(isTracingSuppressed(), true, 'in a scope opened inside');
      scope.close();
      t.equal(isTracingSuppressed(), true, 'after that scope closed');
      t.equal(tracer.activeSpan(), span);
      tracer.scopeManager.run(null, () => t.equal(isTracingSuppressed(), true, 'with no span active (run(null))'));
      await new Promise<void>((resolve) => setImmediate(() => {
        t.equal(isTracingSuppressed(), true, 'in setImmediate');
        resolve();
      }));
    });
    t.equal(isTracingSuppressed(), false, 'back outside');
    t.equal(tracer.activeSpan(), span);
  });
  t.equal(isTracingSuppressed(), false);
  t.equal(tracer.activeSpan(), null);
});

t.test('concurrent flows: only the suppressed one is suppressed', async (t) => {
  const tracer = new Tracer();
  const seen: boolean[] = [];
  await Promise.all([
    suppressTracing(async () => {
      await sleep(2);
      seen[0] = isTracingSuppressed();
    }),
    (async () => {
      await sleep(1);
      seen[1] = isTracingSuppressed();
    })(),
    tracer.scopeManager.run(tracer.startSpan('other'), async () => {
      await sleep(1);
      seen[2] = isTracingSuppressed();
    }),
  ]);
  t.same(seen, [true, false, false]);
});

t.test('two tracers with their own AsyncLocalScopeManager do not see each other\'s spans', async (t) => {
  const a = new Tracer({ scopeManager: new AsyncLocalScopeManager() });
  const b = new Tracer({ scopeManager: new AsyncLocalScopeManager() });
  const spanA = a.startSpan('a');
  const spanB = b.startSpan('b');
  await a.scopeManager.run(spanA, async () => {
    t.equal(b.activeSpan(), null, 'b sees nothing active');
    const scopeB = b.scopeManager.activate(spanB, false);
    await sleep(1);
    t.equal(a.activeSpan(), spanA, 'a still sees its own span under b\'s');
    t.equal(b.activeSpan(), spanB);
    t.equal(a.startSpan('child').parentSpanId, spanA.context().spanId, 'a parents to its own span');
    scopeB.close();
    t.equal(b.activeSpan(), null);
    t.equal(a.activeSpan(), spanA);
  });
});
