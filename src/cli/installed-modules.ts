import * as fs from 'node:fs';
import * as path from 'node:path';
import * as semver from 'semver';
import { isBuiltin } from 'node:module';
import { instrumentations } from '../../instrumentations/index.js';
import type { InstrumentationDeclaration } from '../agent/instrumentation.js';
import { instrumentationSwitch } from '../config/instrumentation-names.js';
import type { Config } from '../config/types.js';

/** A module an instrumentation covers: a package and its supported range, or a Node built-in (or global). */
export interface SupportedModule {
  name: string;
  /** A `semver` range for packages; built-ins follow the running Node. */
  versions: string;
  builtin?: boolean;
}

/**
 * What each instrumentation supports, for the `config` command: read from the declarations in
 * instrumentations/index.ts (no instrumentation code loads), one row per package (a package whose
 * declaration names several of its files is one row).
 */
export const SUPPORTED_MODULES: Readonly<Record<string, readonly SupportedModule[]>> = supportedModules(instrumentations);

export function supportedModules(declarations: readonly InstrumentationDeclaration[]): Record<string, SupportedModule[]> {
  const out: Record<string, SupportedModule[]> = Object.create(null);
  for (const d of declarations) {
    const rows: SupportedModule[] = (out[d.name] = []);
    for (const m of d.modules) {
      const name = m.name.startsWith('node:') ? m.name.slice(5) : m.name;
      if (rows.some((r) => r.name === name)) continue;
      const builtin = isBuiltin(name) || (m.reportOnly === true && name === 'fetch');
      rows.push(builtin ? { name, versions: m.versions, builtin: true } : { name, versions: m.versions });
    }
  }
  return out;
}

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
