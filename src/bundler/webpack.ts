import * as path from 'node:path';
import { BUNDLED_MODULE_CHANNEL, KEPT_NAME_PROBES, keepNamesMessage, PackageFileMatcher, type PackageFile } from './targets.js';

// The part of webpack 5's plugin API this plugin uses (webpack is the app's dependency, not ours).
interface Tap<A extends unknown[]> {
  tap(name: string | { name: string; stage: number }, fn: (...args: A) => void): void;
}
interface LoaderItem {
  loader: string;
  options?: unknown;
}
interface ResolveData {
  createData: { resource?: string; resourceResolveData?: { path?: unknown }; loaders?: LoaderItem[] };
}
interface NormalModuleFactory {
  hooks: { afterResolve: Tap<[ResolveData]> };
}
interface Asset {
  name: string;
  source: { source(): string | Buffer };
}
interface WebpackCompilation {
  hooks: { processAssets: Tap<[Record<string, unknown>]> };
  getAssets(): readonly Asset[];
  deleteAsset(file: string): void;
  errors: Error[];
}
interface WebpackCompiler {
  webpack: {
    Compilation: { PROCESS_ASSETS_STAGE_ANALYSE: number };
    WebpackError: new (message: string) => Error;
  };
  hooks: {
    normalModuleFactory: Tap<[NormalModuleFactory]>;
    thisCompilation: Tap<[WebpackCompilation]>;
  };
}

/** What the plugin passes to its loader for one package file. */
export type TrailerLoaderOptions = PackageFile;

const PLUGIN = '@acme/tracing-agent/webpack';
const NAME = 'AcmeTracingWebpackPlugin';
const LOADER = path.join(__dirname, 'webpack-loader.js');
const NODE_MODULES = /[\\/]node_modules[\\/]/;
const SCRIPT_ASSET = /\.[cm]?js(?:[?#].*)?$/;

/**
 * webpack 5 plugin for apps bundled for Node (`target: 'node'`): every package file an instrumentation
 * targets (express, pg, ioredis, ...) is handed to the agent when it loads, with the name and version
 * of its package, so the bundled app is traced as the unbundled one; without the agent the bundle
 * runs unchanged. The same targets, trailer and run-time contract as `@acme/tracing-agent/esbuild`.
 *
 * A minified build must keep function and class names (terser's `keep_fnames` and `keep_classnames`):
 * the plugin checks the minified output, whatever the minifier, and fails the build when they were
 * renamed, saying so, rather than emit a bundle that silently loses span names.
 *
 * ```js
 * const { TracingWebpackPlugin } = require('@acme/tracing-agent/webpack');
 * module.exports = { target: 'node', entry: './app.js', plugins: [new TracingWebpackPlugin()] };
 * ```
 */
export class TracingWebpackPlugin {
  apply(compiler: WebpackCompiler): void {
    const matcher = new PackageFileMatcher();
    compiler.hooks.normalModuleFactory.tap(NAME, (factory) => {
      factory.hooks.afterResolve.tap(NAME, ({ createData }) => {
        const resolved = createData.resourceResolveData?.path;
        const file = typeof resolved === 'string' ? resolved : createData.resource?.replace(/[?#].*$/, '');
        if (file === undefined || !NODE_MODULES.test(file)) return;
        const target = matcher.match(file);
        if (target === null) return;
        // First in the list runs last: the trailer goes after whatever other loaders did to the file.
        (createData.loaders ??= []).unshift({ loader: LOADER, options: target satisfies TrailerLoaderOptions });
      });
    });
    compiler.hooks.thisCompilation.tap(NAME, (compilation) => {
      // After every minimizer (they run at OPTIMIZE_SIZE): look at what will be written.
      compilation.hooks.processAssets.tap({ name: NAME, stage: compiler.webpack.Compilation.PROCESS_ASSETS_STAGE_ANALYSE }, () => {
        for (const asset of compilation.getAssets()) {
          if (!SCRIPT_ASSET.test(asset.name)) continue;
          const source = String(asset.source.source());
          if (!source.includes(BUNDLED_MODULE_CHANNEL) || KEPT_NAME_PROBES.every((name) => source.includes(name))) continue;
          compilation.errors.push(new compiler.webpack.WebpackError(keepNamesMessage(PLUGIN, `${asset.name} was minified without keeping function and class names`, MINIFIER_FIX)));
          // Even when the build config emits on errors, no bundle that silently loses span names.
          compilation.deleteAsset(asset.name);
        }
      });
    });
  }
}

const MINIFIER_FIX =
  'keep them: optimization.minimizeOptions.javascript = { keepFnames: true, keepClassnames: true }, or with your own ' +
  'TerserPlugin terserOptions: { keep_fnames: true, keep_classnames: true } (or set optimization.minimize: false)';

export default TracingWebpackPlugin;
