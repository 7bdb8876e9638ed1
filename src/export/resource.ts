import { existsSync, readFileSync } from 'node:fs';
import path = require('node:path');
import type { TagValue } from '../api/span.js';
import type { Attribute } from './span-model.js';

/** Our SDK's name, as sent in `telemetry.sdk.name`. */
export const SDK_NAME = '@acme/tracing-agent';

/** Our package version, read once; `unknown` if package.json cannot be read. */
export const SDK_VERSION: string = readOwnVersion();

function readOwnVersion(): string {
  // From dist/src/export (compiled) or src/export (ts): the package root is where package.json
  // names us; walk up a few levels rather than hard-coding one layout.
  // Asked first whether the file is there: a failed read builds an Error with its stack, and from dist/src/export
  // three levels have no package.json, in every process that exports.
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
        if (pkg.name === SDK_NAME && typeof pkg.version === 'string') return pkg.version;
      } catch {
        // unreadable or not JSON: keep walking
      }
    }
    dir = path.dirname(dir);
  }
  return 'unknown';
}

/**
 * The resource sent with every batch: what the agent was given (service name, version,
 * environment, user tags) over process and host basics, and our SDK identity, which always wins.
 */
export function buildResource(given: Readonly<Record<string, TagValue>>): readonly Attribute[] {
  const merged: Record<string, TagValue> = Object.create(null);
  merged['host.name'] = hostName();
  merged['os.type'] = osTypeName();
  merged['process.pid'] = process.pid;
  merged['process.runtime.name'] = 'nodejs';
  merged['process.runtime.version'] = process.versions.node;
  for (const key of Object.keys(given)) {
    const value = given[key];
    if (value !== '' && value !== undefined) merged[key] = value;
  }
  merged['telemetry.sdk.name'] = SDK_NAME;
  merged['telemetry.sdk.version'] = SDK_VERSION;
  merged['telemetry.sdk.language'] = 'nodejs';
  if (typeof merged['service.name'] !== 'string') merged['service.name'] = 'unknown_service:node';
  return Object.keys(merged).map((key) => ({ key, value: merged[key]! }));
}

/**
 * `os.hostname()`. On Linux read from /proc/sys/kernel/hostname, which is what gethostname() returns (the UTS
 * namespace's node name): loading `node:os` for it and the OS type compiles that module's functions in every
 * process that exports, a short one included (~0.8 M instructions on Node 20; docs/performance.md, round fourteen).
 */
function hostName(): string {
  if (process.platform === 'linux') {
    try {
      const name = readFileSync('/proc/sys/kernel/hostname', 'utf8').trim();
      if (name !== '') return name;
    } catch {
      // No /proc (a restricted sandbox): ask Node.
    }
  }
  return safe(() => os().hostname());
}

/** `os.type()` lowercased; on Linux that is always `linux` (uname's sysname), known without loading `node:os`. */
function osTypeName(): string {
  if (process.platform === 'linux') return 'linux';
  return safe(() => os().type()).toLowerCase();
}

function os(): typeof import('node:os') {
  return require('node:os') as typeof import('node:os');
}

/** `service.name` from a built resource. */
export function serviceNameOf(resource: readonly Attribute[]): string {
  for (const a of resource) if (a.key === 'service.name') return String(a.value);
  return 'unknown_service:node';
}

function safe(fn: () => string): string {
  try {
    return fn();
  } catch {
    return 'unknown';
  }
}
