// The agents compared, each as a user would switch it on: node flags plus environment.
// `expects` says what proves the agent did its work in a cell (see verdict.mjs).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
/** Our entry point, by path: the benchmarks package does not install the agent it measures. */
export const OUR_REGISTER = fileURLToPath(new URL('../../register.mjs', import.meta.url));
/** A preload that enables one AsyncLocalStorage and runs each server request in it, nothing else. */
export const ALS_FLOOR = fileURLToPath(new URL('../micro/als-floor/register.mjs', import.meta.url));
/** What `npm run build` produces; without it our rows cannot be measured. */
export const OUR_BUILD = fileURLToPath(new URL('../../dist/src/agent/start.js', import.meta.url));

/** Our agent from the checkout at `root` (this repository, or a built copy of an older commit). */
const oursAt = (root, extraEnv) => {
  const register = path.join(root, 'register.mjs');
  const build = path.join(root, 'dist', 'src', 'agent', 'start.js');
  return {
    args: () => ['--import', register],
    env: ({ sinkUrl, app }) => ({
      TRACING_SERVICE_NAME: `bench-${app}`,
      TRACING_EXPORTER: 'otlp',
      TRACING_ENDPOINT: `${sinkUrl}/v1/traces`,
      TRACING_LOG_LEVEL: 'warn',
      ...extraEnv,
    }),
    missing: () => (existsSync(build) ? null : `agent not built (${build} missing: run npm run build${root === repoRoot ? '' : ` in ${root}`})`),
  };
};
const ours = (extraEnv) => oursAt(repoRoot, extraEnv);

/**
 * `sameAs`: the sampled row an unsampled row stands or falls with (verdict.mjs); `unsampled`: the
 * unsampled twin a sampled row's export cost is measured against (targets.mjs).
 * @typedef {{id: string, label: string, expects: 'nothing'|'spans'|'context'|'off', args: Function, env: Function, missing: Function, sameAs?: string, unsampled?: string}} Agent
 * @type {Agent[]}
 */
export const AGENTS = [
  {
    id: 'none',
    label: 'no agent',
    expects: 'nothing',
    args: () => [],
    env: () => ({}),
    missing: () => null,
  },
  {
    id: 'ours',
    label: 'ours, every request sampled',
    expects: 'spans',
    unsampled: 'ours-unsampled',
    ...ours({ TRACING_SAMPLER: 'always_on' }),
  },
  {
    id: 'ours-unsampled',
    label: 'ours, TRACING_SAMPLER=always_off',
    // Nothing is exported, but context still flows downstream; where there is no downstream call,
    // the cell counts only if the sampled row proves the same instrumentation runs.
    expects: 'context',
    sameAs: 'ours',
    ...ours({ TRACING_SAMPLER: 'always_off' }),
  },
  {
    id: 'ours-no-export',
    label: 'ours, every request sampled, TRACING_EXPORTER=none',
    // The span is recorded and ended but not encoded or sent: with the sampled and unsampled rows it
    // splits a request's cost into tracing and export.
    expects: 'context',
    sameAs: 'ours',
    ...ours({ TRACING_SAMPLER: 'always_on', TRACING_EXPORTER: 'none' }),
  },
  {
    id: 'als-floor',
    label: 'one AsyncLocalStorage entered per request, no agent',
    // The floor of any AsyncLocalStorage-based tracer (benchmarks/micro/als-floor): what Node itself
    // charges for context propagation, beside which our rows are read.
    expects: 'nothing',
    args: () => ['--import', ALS_FLOOR],
    env: () => ({}),
    missing: () => null,
  },
  {
    id: 'ours-disabled',
    label: 'ours, TRACING_ENABLED=false',
    expects: 'off',
    ...ours({ TRACING_ENABLED: 'false' }),
  },
  {
    id: 'otel',
    label: '@opentelemetry/auto-instrumentations-node',
    expects: 'spans',
    // The loader hook is what makes ESM apps (all of ours) visible to OpenTelemetry's patches.
    args: () => [
      '--experimental-loader=@opentelemetry/instrumentation/hook.mjs',
      '--import', '@opentelemetry/auto-instrumentations-node/register',
    ],
    env: ({ sinkUrl, app }) => ({
      OTEL_SERVICE_NAME: `bench-${app}`,
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${sinkUrl}/v1/traces`,
      OTEL_TRACES_SAMPLER: 'always_on',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      // The default 'all' includes cloud detectors that call metadata addresses off this machine.
      OTEL_NODE_RESOURCE_DETECTORS: 'env,host,os,process',
      OTEL_LOG_LEVEL: 'error',
    }),
    missing: () => null,
  },
  {
    id: 'dd',
    label: 'dd-trace 5',
    expects: 'spans',
    args: () => ['--import', 'dd-trace/initialize.mjs'],
    env: ({ sinkUrl, app }) => ({
      DD_SERVICE: `bench-${app}`,
      DD_ENV: 'bench',
      DD_TRACE_AGENT_URL: sinkUrl,
      DD_RUNTIME_METRICS_ENABLED: 'false',
      DD_PROFILING_ENABLED: 'false',
      DD_REMOTE_CONFIGURATION_ENABLED: 'false',
      DD_INSTRUMENTATION_TELEMETRY_ENABLED: 'false',
      DD_TRACE_TELEMETRY_ENABLED: 'false',
      DD_CRASHTRACKING_ENABLED: 'false',
      DD_TRACE_STARTUP_LOGS: 'false',
    }),
    missing: () => null,
  },
];

/**
 * The rows of another build of ours (`--before <dir>` / BENCH_BASELINE_ROOT: a checkout of an older
 * commit with its own `npm run build`), sampled and unsampled, so that before and after are measured
 * in the same interleaved rounds. `commit` labels the rows.
 * @returns {Agent[]}
 */
export function beforeAgents(root, commit) {
  const tag = commit ? `ours before (${commit})` : 'ours before';
  return [
    {
      id: 'ours-before',
      label: `${tag}, every request sampled`,
      expects: 'spans',
      unsampled: 'ours-before-unsampled',
      ...oursAt(path.resolve(root), { TRACING_SAMPLER: 'always_on' }),
    },
    {
      id: 'ours-before-unsampled',
      label: `${tag}, TRACING_SAMPLER=always_off`,
      expects: 'context',
      sameAs: 'ours-before',
      ...oursAt(path.resolve(root), { TRACING_SAMPLER: 'always_off' }),
    },
  ];
}

export { repoRoot };
