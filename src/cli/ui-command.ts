// `tracing-agent ui`: the local trace viewer. Receives OTLP/HTTP on 4318 (where the agent sends by
// default) and OTLP/gRPC on 4317 (where the OpenTelemetry Operator's defaults send), and serves the page
// on its own port until Ctrl-C or SIGTERM.
import { isLoopbackHost } from '../viewer/loopback.js';
import { DEFAULT_MAX_SPANS } from '../viewer/store.js';
import { describeError } from '../util/log.js';
import { DEFAULT_HOST, DEFAULT_OTLP_GRPC_PORT, DEFAULT_OTLP_PORT, DEFAULT_WEB_PORT, FileError, ListenError, startViewer, type Viewer, type ViewerOptions } from '../viewer/viewer.js';

interface UiIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export const UI_USAGE = `Usage: tracing-agent ui [options]

Receives traces over OTLP (HTTP and gRPC) and shows them in the browser.

Options:
  --port N         web page port (default ${DEFAULT_WEB_PORT}; 0 picks a free port)
  --otlp-port N    OTLP/HTTP receiver port (default ${DEFAULT_OTLP_PORT}; 0 picks a free port)
  --otlp-grpc-port N
                   OTLP/gRPC receiver port (default ${DEFAULT_OTLP_GRPC_PORT}, skipped with a warning when taken;
                   0 picks a free port; off: no gRPC receiver)
  --host ADDR      address to bind both ports to (default ${DEFAULT_HOST}; anything else exposes your traces)
  --max-spans N    spans kept in memory; the oldest traces are evicted whole (default ${DEFAULT_MAX_SPANS})
  --file F         also append spans to the JSON-lines file F and load it again on the next start
  -h, --help       show this help
`;

/** The parsed options, or an error message for a bad command line. */
export function parseUiArgs(args: readonly string[]): (ViewerOptions & { help?: boolean }) | string {
  const out: ViewerOptions & { help?: boolean } = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '-h' || arg === '--help') {
      out.help = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    let value: string | undefined;
    const takeValue = (): string | undefined => {
      if (eq > 0 && arg.startsWith('--')) return arg.slice(eq + 1);
      i++;
      return args[i];
    };
    switch (name) {
      case '--port':
      case '--otlp-port': {
        value = takeValue();
        const port = Number(value);
        if (value === undefined || value === '' || !Number.isInteger(port) || port < 0 || port > 65535) return `${name} needs a port number from 0 to 65535, got ${value === undefined ? 'nothing' : `"${value}"`}`;
        if (name === '--port') out.port = port;
        else out.otlpPort = port;
        break;
      }
      case '--otlp-grpc-port': {
        value = takeValue();
        if (value === 'off') {
          out.otlpGrpcPort = null;
          break;
        }
        const port = Number(value);
        if (value === undefined || value === '' || !Number.isInteger(port) || port < 0 || port > 65535) return `--otlp-grpc-port needs a port number from 0 to 65535 or off, got ${value === undefined ? 'nothing' : `"${value}"`}`;
        out.otlpGrpcPort = port;
        break;
      }
      case '--host':
        value = takeValue();
        if (value === undefined || value === '' || value.startsWith('--')) return `--host needs an address, e.g. ${DEFAULT_HOST}`;
        out.host = value;
        break;
      case '--max-spans': {
        value = takeValue();
        const n = Number(value);
        if (value === undefined || value === '' || !Number.isSafeInteger(n) || n < 1) return `--max-spans needs a whole number ≥ 1, got ${value === undefined ? 'nothing' : `"${value}"`}`;
        out.maxSpans = n;
        break;
      }
      case '--file':
        value = takeValue();
        if (value === undefined || value === '' || value.startsWith('--')) return '--file needs a file name, e.g. --file traces.jsonl';
        out.file = value;
        break;
      default:
        return `unknown option ${arg}`;
    }
  }
  const web = out.port ?? DEFAULT_WEB_PORT;
  const otlp = out.otlpPort ?? DEFAULT_OTLP_PORT;
  if (web !== 0 && web === otlp) return `--port and --otlp-port must differ (both ${web})`;
  const grpc = out.otlpGrpcPort === undefined ? DEFAULT_OTLP_GRPC_PORT : out.otlpGrpcPort;
  if (grpc !== null && grpc !== 0 && (grpc === web || grpc === otlp)) return `--otlp-grpc-port must differ from --port and --otlp-port (${grpc})`;
  return out;
}

/**
 * `tracing-agent ui [options]`: runs until SIGINT/SIGTERM, then closes cleanly (the file's pending
 * lines are written) and returns 0. Bad options: usage and 2. A port in use: one line and 1.
 */
export async function runUiCommand(args: readonly string[], io: UiIo): Promise<number> {
  const parsed = parseUiArgs(args);
  if (typeof parsed === 'string') {
    io.stderr(`tracing-agent ui: ${parsed}\n\n${UI_USAGE}`);
    return 2;
  }
  if (parsed.help === true) {
    io.stdout(UI_USAGE);
    return 0;
  }
  const { help: _help, ...options } = parsed;
  const warn = (m: string): void => io.stderr(`tracing-agent ui: warning: ${m}\n`);
  const grpcPort = options.otlpGrpcPort === undefined ? DEFAULT_OTLP_GRPC_PORT : options.otlpGrpcPort;
  let viewer: Viewer;
  try {
    try {
      viewer = await startViewer({ ...options, otlpGrpcPort: grpcPort, warn });
    } catch (err) {
      // The gRPC port is an extra: when its default is taken (a local Collector), the viewer still runs.
      if (!(err instanceof ListenError) || options.otlpGrpcPort !== undefined || grpcPort === null || err.portInUse !== grpcPort || !err.message.startsWith('OTLP/gRPC')) throw err;
      warn(`${err.message.split(';')[0]}: OTLP/gRPC is not received (choose a free port with --otlp-grpc-port)`);
      viewer = await startViewer({ ...options, otlpGrpcPort: null, warn });
    }
  } catch (err) {
    // ListenError and FileError say what happened and what to do; anything else is unexpected.
    io.stderr(`tracing-agent ui: ${err instanceof ListenError || err instanceof FileError ? err.message : describeError(err)}\n`);
    return 1;
  }
  const host = options.host ?? DEFAULT_HOST;
  if (!isLoopbackHost(host)) {
    io.stderr(`tracing-agent ui: warning: listening on ${host}, not loopback: anyone who can reach these ports can read your traces and send spans.\n`);
  }
  if (viewer.loaded !== null) {
    const l = viewer.loaded;
    const kept = viewer.store.stats();
    const evicted = l.loaded - kept.spans;
    const notes = [evicted > 0 ? `${evicted} older ones evicted by --max-spans` : '', l.skipped > 0 ? `${l.skipped} bad line(s) skipped` : '', l.compacted ? 'file rewritten with what was kept' : ''].filter((n) => n !== '');
    io.stdout(`Loaded ${kept.spans} spans (${kept.traces} traces) from ${options.file}${notes.length > 0 ? `; ${notes.join(', ')}` : ''}\n`);
  }
  const grpcLine = viewer.otlpGrpcUrl === null ? '' : `OTLP/gRPC: ${viewer.otlpGrpcUrl} (TRACING_EXPORTER_PROTOCOL=grpc, or OTEL_EXPORTER_OTLP_PROTOCOL=grpc)\n`;
  io.stdout(`Traces: ${viewer.webUrl}\nOTLP:   ${viewer.otlpUrl} (protobuf or JSON; the agent's default endpoint)\n${grpcLine}Stop with Ctrl-C.\n`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const on = (s: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(s);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
  await viewer.close();
  io.stdout(`Stopped (${signal}).\n`);
  return 0;
}
