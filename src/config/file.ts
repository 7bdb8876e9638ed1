import fs = require('node:fs');
import path = require('node:path');
import { INSTRUMENTATION_NAMES } from './instrumentation-names.js';
import { CONFIG_FILE_VARIABLE, FILE_KEYS } from './settings.js';
import { didYouMean } from './suggest.js';

/** Per-instrumentation options from the file: name → options, or `false` for "off". */
export type InstrumentationOptions = Record<string, Readonly<Record<string, unknown>> | false>;

/** What the `TRACING_CONFIG` file contributed. */
export interface ConfigFile {
  /** The absolute path read, or null when `TRACING_CONFIG` is unset or the file was rejected. */
  path: string | null;
  /** Top-level settings by file key (validated later, by the same parsers as the variables). */
  values: Readonly<Record<string, unknown>>;
  instrumentations: InstrumentationOptions;
  warnings: string[];
}

/** Reads a file as UTF-8; injectable so tests need no disk. */
export type ReadFile = (file: string) => string;

const EMPTY: Omit<ConfigFile, 'warnings'> = { path: null, values: {}, instrumentations: {} };

/**
 * Reads and checks the JSON file `TRACING_CONFIG` names (relative paths from `cwd`). An unreadable
 * file, invalid JSON or a non-object gives one warning and is ignored as a whole; an unknown key or
 * instrumentation gives one warning (with the closest known name) and is skipped.
 */
export function readConfigFile(env: NodeJS.ProcessEnv, cwd: string, readFile: ReadFile = (f) => fs.readFileSync(f, 'utf8')): ConfigFile {
  const named = env[CONFIG_FILE_VARIABLE]?.trim();
  if (!named) return { ...EMPTY, warnings: [] };
  const file = path.resolve(cwd, named);
  const label = `${CONFIG_FILE_VARIABLE}="${named}"`;
  let text: string;
  try {
    text = readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException)?.code;
    const why = code === 'ENOENT' ? 'the file does not exist' : code === 'EISDIR' ? 'it is a directory' : `it cannot be read (${code ?? String(err)})`;
    return { ...EMPTY, warnings: [`${label}: ${why}; expected a readable JSON file; using no config file.`] };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ...EMPTY, warnings: [`${label}: invalid JSON (${(err as Error).message}); expected a JSON object such as {"instrumentations": {"koa": false}}; using no config file.`] };
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    return { ...EMPTY, warnings: [`${label}: the file holds ${Array.isArray(json) ? 'an array' : String(json === null ? 'null' : typeof json)}; expected a JSON object; using no config file.`] };
  }
  const warnings: string[] = [];
  const values: Record<string, unknown> = Object.create(null);
  let instrumentations: InstrumentationOptions = Object.create(null);
  for (const [key, value] of Object.entries(json as Record<string, unknown>)) {
    if (key === 'instrumentations') instrumentations = readInstrumentations(value, label, warnings);
    else if (FILE_KEYS.includes(key)) values[key] = value;
    else warnings.push(`${label}: unknown key "${key}"${didYouMean(key, FILE_KEYS)}; accepted: ${FILE_KEYS.join(', ')}; it is ignored.`);
  }
  return { path: file, values, instrumentations, warnings };
}

function readInstrumentations(value: unknown, label: string, warnings: string[]): InstrumentationOptions {
  const out: InstrumentationOptions = Object.create(null);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    warnings.push(`${label}: "instrumentations" must be an object of name → false, true or an options object; it is ignored.`);
    return out;
  }
  const known: readonly string[] = INSTRUMENTATION_NAMES;
  for (const [name, options] of Object.entries(value as Record<string, unknown>)) {
    if (!known.includes(name)) {
      warnings.push(`${label}: unknown instrumentation "${name}"${didYouMean(name, known)}; accepted: ${known.join(', ')}; it is ignored.`);
    } else if (options === false) {
      out[name] = false;
    } else if (options === true) {
      out[name] = {};
    } else if (options !== null && typeof options === 'object' && !Array.isArray(options)) {
      out[name] = options as Record<string, unknown>;
    } else {
      warnings.push(`${label}: instrumentations.${name} is ${JSON.stringify(options)}; expected false, true or an options object; it is ignored.`);
    }
  }
  return out;
}
