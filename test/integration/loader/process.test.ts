import t from 'tap';
import { processScenarios } from './process-scenarios.js';

// Threads, child processes, exit and load order under the Node running the tests.
processScenarios(t);
