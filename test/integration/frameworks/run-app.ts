import * as path from 'node:path';
import { startFixtureApp, type RunningApp } from '../../helpers/fixture-app.js';
import { ROOT } from '../../helpers/run-node.js';

export type { Reply, RunningApp } from '../../helpers/fixture-app.js';

/** The fixture apps (sources, not compiled): one folder per framework major. */
export const FIXTURES = path.join(ROOT, 'test', 'integration', 'frameworks', 'fixtures');

/** Starts `fixtures/<folder>/<file>` under the agent (see `startFixtureApp`). */
export function startApp(folder: string, file: string, env: NodeJS.ProcessEnv): Promise<RunningApp> {
  return startFixtureApp(FIXTURES, folder, file, env);
}
