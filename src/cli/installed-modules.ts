import * as fs from 'node:fs';
import * as path from 'node:path';
import * as semver from 'semver';
import { instrumentationSwitch, type InstrumentationName } from '../config/instrumentation-names.js';
import type { Config } from '../config/types.js';

/** A module an instrumentation patches: a package and its supported range, or a Node built-in. */
export interface SupportedModule {
  name: string;
  /** A `semver` range for packages; built-ins follow the running Node. */
  versions: string;
  builtin?: boolean;
}

/**
 * What each instrumentation supports, for the `config` command. Typed by name so adding an
 * instrumentation to INSTRUMENTATION_NAMES without a line here does not compile.
 * Keep in step with the instrumentations' own `modules` declarations.
 */
export const SUPPORTED_MODULES: Readonly<Record<InstrumentationName, readonly SupportedModule[]>> = {
  http: [{ name: 'http', versions: '*', builtin: true }],
  https: [{ name: 'https', versions: '*', builtin: true }],
  fetch: [{ name: 'fetch', versions: '*', builtin: true }],
  undici: [{ name: 'undici', versions: '>=5' }],
  express: [{ name: 'express', versions: '>=4 <6' }],
  fastify: [{ name: 'fastify', versions: '>=4 <6' }],
  koa: [
    { name: 'koa', versions: '>=2 <4' },
    { name: '@koa/router', versions: '*' },
  ],
  hapi: [{ name: '@hapi/hapi', versions: '>=21 <22' }],
  pg: [
    { name: 'pg', versions: '>=8 <9' },
    { name: 'pg-pool', versions: '>=3 <4' },
  ],
  mysql2: [{ name: 'mysql2', versions: '>=3 <4' }],
  ioredis: [{ name: 'ioredis', versions: '>=5 <7' }],
  redis: [{ name: '@redis/client', versions: '>=1' }],
  graphql: [
    { name: 'graphql', versions: '>=15 <17' },
    { name: '@graphql-tools/executor', versions: '>=1 <3' },
  ],
  pino: [{ name: 'pino', versions: '>=7 <11' }],
  winston: [{ name: 'winston', versions: '>=3 <4' }],
  bunyan: [{ name: 'bunyan', versions: '>=1 <2' }],
  grpc: [{ name: '@grpc/grpc-js', versions: '>=1.8 <2' }],
  opentracing: [{ name: 'opentracing', versions: '>=0.13.0 <1' }],
};

/** One module line of the report. */
export interface ModuleReport {
  instrumentation: string;
  module: string;
  supported: string;
  /** The installed version, `built-in`, or null when not installed. */
  installed: string | null;
  /** Whether the agent would patch it when the app loads it. */
  applies: boolean;
  why: string;
}

/**
 * The version of `name` that `require` from `dir` would load: the first node_modules/<name> up the
 * folder tree (read from its package.json, since a package's `exports` may hide that file from
 * `require.resolve`).
 */
export function installedVersion(name: string, dir: string): string | null {
  let current = path.resolve(dir);
  for (;;) {
    try {
      const pkg: unknown = JSON.parse(fs.readFileSync(path.join(current, 'node_modules', name, 'package.json'), 'utf8'));
      const version = (pkg as { version?: unknown })?.version;
      if (typeof version === 'string') return version;
    } catch {
      // Not installed at this level (or unreadable): keep walking up, as Node's resolution does.
    }
    const parent = path.dirname(current);
    if (parent === current) return null;
    current = parent;
  }
}

/** Which instrumentations would apply to the modules installed for a project in `dir`. */
export function reportInstalledModules(config: Readonly<Config>, dir: string): ModuleReport[] {
  const out: ModuleReport[] = [];
  for (const [instrumentation, modules] of Object.entries(SUPPORTED_MODULES)) {
    const sw = instrumentationSwitch(config, instrumentation);
    for (const m of modules) {
      const base = { instrumentation, module: m.name, supported: m.builtin ? 'built-in' : m.versions };
      if (m.builtin) {
        const present = m.name !== 'fetch' || typeof (globalThis as { fetch?: unknown }).fetch === 'function';
        const installed = present ? `built-in (node ${process.versions.node})` : null;
        out.push({ ...base, installed, ...verdict(config, sw, installed !== null, true) });
        continue;
      }
      const version = installedVersion(m.name, dir);
      const inRange = version !== null && semver.satisfies(version, m.versions, { includePrerelease: true });
      const result = verdict(config, sw, version !== null, inRange);
      if (version !== null && !inRange && result.why === '') result.why = `version ${version} is outside ${m.versions}: skipped`;
      out.push({ ...base, installed: version, ...result });
    }
  }
  return out;
}

function verdict(config: Readonly<Config>, sw: { enabled: boolean; reason: string }, installed: boolean, inRange: boolean): { applies: boolean; why: string } {
  if (!config.enabled) return { applies: false, why: 'tracing is disabled' };
  if (!sw.enabled) return { applies: false, why: `switched off (${sw.reason})` };
  if (!installed) return { applies: false, why: 'not installed' };
  if (!inRange) return { applies: false, why: '' };
  return { applies: true, why: 'will be traced' };
}
