import * as path from 'node:path';
import { ROOT } from '../../helpers/run-node.js';
import { ALIASES, FIXTURES } from './common.js';

// How the webpack suites build a fixture app: webpack 5 for Node, our plugin or not, minified or not.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const webpack = require('webpack') as (config: object, callback: (err: Error | null, stats?: Stats) => void) => void;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { TracingWebpackPlugin } = require(path.join(ROOT, 'dist', 'src', 'bundler', 'webpack.js')) as typeof import('../../../src/bundler/webpack.js');

interface Stats {
  hasErrors(): boolean;
  toJson(options: object): { errors?: { message: string }[] };
}

export interface BuildOptions {
  plugin: boolean;
  /** production minifies with webpack's default minimizer (terser). */
  mode?: 'development' | 'production';
  /** `optimization.minimizeOptions.javascript`: the minimizer's settings, webpack's defaults when left out. */
  minimizeJavascript?: Record<string, unknown>;
}

/** Builds one bundle into `out`; rejects with webpack's error messages when the build has errors. */
export function webpackBundle(out: string, source: string, outName: string, o: BuildOptions): Promise<string> {
  const config = {
    mode: o.mode ?? 'development',
    target: 'node',
    context: ROOT,
    entry: path.join(FIXTURES, source),
    output: { path: out, filename: outName },
    devtool: false,
    resolve: { alias: ALIASES },
    // An optional native add-on pg probes for; leaving it out of the bundle is what users do.
    externals: { 'pg-native': 'commonjs pg-native' },
    plugins: o.plugin ? [new TracingWebpackPlugin()] : [],
    optimization: o.minimizeJavascript !== undefined ? { minimizeOptions: { javascript: o.minimizeJavascript } } : {},
    infrastructureLogging: { level: 'error' },
  };
  return new Promise((resolve, reject) => {
    webpack(config, (err, stats) => {
      if (err !== null) return reject(err);
      if (stats!.hasErrors()) return reject(new Error((stats!.toJson({ all: false, errors: true }).errors ?? []).map((e) => e.message).join('\n')));
      resolve(outName);
    });
  });
}

