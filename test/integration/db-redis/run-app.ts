import * as path from 'node:path';
import { startFixtureApp, type RunningApp } from '../../helpers/fixture-app.js';
import { ROOT } from '../../helpers/run-node.js';

export type { RunningApp } from '../../helpers/fixture-app.js';

/** The fixture apps (sources, not compiled): one folder per client major, symlinked to the shared app. */
export const FIXTURES = path.join(ROOT, 'test', 'integration', 'db-redis', 'fixtures');

/**
 * Starts `fixtures/<folder>/<file>` under the agent, or without it when `agent` is false (see
 * `startFixtureApp`); its `/shutdown` also removes the suite's keys.
 */
export function startApp(folder: string, file: string, env: NodeJS.ProcessEnv, agent = true): Promise<RunningApp> {
  return startFixtureApp(FIXTURES, folder, file, env, agent);
}
