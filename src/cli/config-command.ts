import * as path from 'node:path';
import { describeConfig, describeValue, REDACTED, redactUrl, redactValues } from '../config/describe.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { SETTINGS } from '../config/settings.js';
import type { Config } from '../config/types.js';
import { reportInstalledModules, type ModuleReport } from './installed-modules.js';

/** The settings as printed: a value with secrets and URL credentials redacted, and its source. */
export interface SettingRow {
  variable: string;
  value: string;
  source: string;
}

/** Rows for every setting, in table order, plus the config file and per-instrumentation options. */
export function settingRows(loaded: LoadedConfig): SettingRow[] {
  const config = loaded.config as Config;
  const rows: SettingRow[] = [
    { variable: 'TRACING_CONFIG', value: loaded.configFile ?? '(none)', source: loaded.sources.TRACING_CONFIG ?? 'unset' },
  ];
  for (const s of SETTINGS) {
    const raw: unknown = s.get(config);
    let value: string;
    if (s.secret) value = describeValue(redactValues(raw as Record<string, unknown>));
    else if (typeof raw === 'string' && /^https?:\/\//.test(raw)) value = redactUrl(raw);
    else value = describeValue(raw);
    rows.push({ variable: s.variable, value, source: loaded.sources[s.variable] ?? 'default' });
  }
  const options = Object.entries(config.instrumentations).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  rows.push({ variable: 'instrumentations (file)', value: options.length > 0 ? options.join(' ') : '(none)', source: loaded.sources.instrumentations ?? 'default' });
  return rows;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => `  ${r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')}`.trimEnd()).join('\n');
}

/** What `tracing-agent config --json` prints: machine-readable, secrets redacted the same way. */
export function configReportJson(loaded: LoadedConfig, modules: ModuleReport[]): unknown {
  const c = loaded.config;
  const redacted = {
    ...c,
    export: { ...c.export, endpoint: redactUrl(c.export.endpoint), zipkinEndpoint: redactUrl(c.export.zipkinEndpoint), headers: redactValues(c.export.headers) },
  };
  return { config: redacted, sources: { ...loaded.sources }, configFile: loaded.configFile, warnings: loaded.warnings, modules };
}

/** The human report: settings with sources, warnings, and which installed modules would be traced. */
export function configReportText(loaded: LoadedConfig, modules: ModuleReport[], cwd: string): string {
  const lines: string[] = [];
  lines.push(`Resolved configuration (precedence: TRACING_* > OTEL_* > TRACING_CONFIG file > package.json > default); secrets shown as ${REDACTED}`);
  lines.push('');
  lines.push(table([['Setting', 'Value', 'Source'], ...settingRows(loaded).map((r) => [r.variable, r.value, r.source])]));
  lines.push('');
  lines.push(`Start-up line: ${describeConfig(loaded.config)}`);
  lines.push('');
  if (loaded.warnings.length > 0) {
    lines.push(`Warnings (${loaded.warnings.length}); each value named here was ignored:`);
    for (const w of loaded.warnings) lines.push(`  - ${w}`);
  } else {
    lines.push('Warnings: none');
  }
  lines.push('');
  lines.push(`Instrumentations for the modules installed in ${path.resolve(cwd)}:`);
  lines.push(
    table([
      ['Instrumentation', 'Module', 'Supports', 'Installed', 'Result'],
      ...modules.map((m) => [m.instrumentation, m.module, m.supported, m.installed ?? '-', m.why]),
    ]),
  );
  return `${lines.join('\n')}\n`;
}

/** `tracing-agent config [--json]`: returns the exit code. */
export function runConfigCommand(args: readonly string[], io: { env: NodeJS.ProcessEnv; cwd: string; stdout: (s: string) => void; stderr: (s: string) => void }): number {
  const unknown = args.filter((a) => a !== '--json');
  if (unknown.length > 0) {
    io.stderr(`tracing-agent config: unknown option ${unknown[0]}; accepted: --json\n`);
    return 2;
  }
  const loaded = loadConfig(io.env, { cwd: io.cwd, mainScript: '' });
  const modules = reportInstalledModules(loaded.config, io.cwd);
  io.stdout(args.includes('--json') ? `${JSON.stringify(configReportJson(loaded, modules), null, 2)}\n` : configReportText(loaded, modules, io.cwd));
  return 0;
}
