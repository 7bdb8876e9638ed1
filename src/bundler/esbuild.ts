import { readFile } from 'node:fs/promises';
import { keepNamesMessage, moduleTrailer, PackageFileMatcher } from './targets.js';

/** The part of esbuild's plugin API this plugin uses (esbuild is the app's dependency, not ours). */
interface EsbuildBuild {
  initialOptions: { minify?: boolean; minifyIdentifiers?: boolean; keepNames?: boolean; platform?: string };
  onLoad(
    options: { filter: RegExp },
    callback: (args: { path: string; namespace: string }) => Promise<{ contents: string; loader: 'js'; warnings?: { text: string }[] } | undefined>,
  ): void;
}

/** An esbuild plugin object. */
export interface EsbuildPlugin {
  name: string;
  setup(build: EsbuildBuild): void;
}

const PLUGIN = '@acme/tracing-agent/esbuild';

/**
 * esbuild plugin for apps bundled for Node: every package file an instrumentation targets
 * (express, pg, ioredis, ...) is handed to the agent when it loads, with the name and version of its
 * package, so the bundled app is traced as the unbundled one. Without the agent the bundle runs
 * unchanged. A build that minifies identifiers without `keepNames` fails, saying so.
 *
 * ```js
 * const { tracingPlugin } = require('@acme/tracing-agent/esbuild');
 * await esbuild.build({ entryPoints: ['app.js'], bundle: true, platform: 'node', plugins: [tracingPlugin()] });
 * ```
 */
export function tracingPlugin(): EsbuildPlugin {
  return {
    name: 'acme-tracing',
    setup(build) {
      const o = build.initialOptions;
      if ((o.minify === true || o.minifyIdentifiers === true) && o.keepNames !== true) throw new Error(keepNamesMessage(PLUGIN, 'this build minifies identifiers without keepNames', 'set keepNames: true'));
      const matcher = new PackageFileMatcher();
      build.onLoad({ filter: /[\\/]node_modules[\\/]/ }, async (args) => {
        if (args.namespace !== 'file') return undefined;
        const file = matcher.match(args.path);
        if (file === null) return undefined;
        const source = await readFile(args.path, 'utf8');
        if (!file.cjs || /^\s*(?:import\s*[{*\w]|export\s)/m.test(source)) {
          return { contents: source, loader: 'js', warnings: [{ text: `${PLUGIN}: ${file.name} (${args.path}) is an ES module; it is bundled untraced (mark it external to trace it)` }] };
        }
        return { contents: source + moduleTrailer(file), loader: 'js' };
      });
    },
  };
}

export default tracingPlugin;
