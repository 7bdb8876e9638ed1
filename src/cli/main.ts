#!/usr/bin/env node
// The `tracing-agent` command (package.json "bin"). Commands are looked up in one table so the
// viewer's `ui` command can be added beside `config` with one line.
import { didYouMean } from '../config/suggest.js';
import { runConfigCommand } from './config-command.js';

type Command = (args: readonly string[], io: CommandIo) => number | Promise<number>;

interface CommandIo {
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

const COMMANDS: Readonly<Record<string, { summary: string; run: Command }>> = {
  config: { summary: 'print the resolved configuration, where each value came from, and which installed modules would be traced (--json for JSON)', run: runConfigCommand },
  // Loaded on use: `config` should not pay for the viewer's servers.
  ui: { summary: 'receive traces over OTLP (port 4318) and show them in the browser (tracing-agent ui --help)', run: (args, io) => (require('./ui-command.js') as typeof import('./ui-command.js')).runUiCommand(args, io) },
};

function usage(): string {
  const lines = ['Usage: tracing-agent <command> [options]', '', 'Commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(8)} ${c.summary}`);
  return `${lines.join('\n')}\n`;
}

/** Runs the command line `argv` (without `node` and the script) and returns the exit code. */
export async function main(argv: readonly string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.stdout(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    io.stderr(`tracing-agent: unknown command "${name}"${didYouMean(name, Object.keys(COMMANDS))}\n\n${usage()}`);
    return 2;
  }
  return command.run(rest, io);
}

if (require.main === module) {
  main(process.argv.slice(2), {
    env: process.env,
    cwd: process.cwd(),
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`tracing-agent: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
