import t from 'tap';
import { loaderScenarios } from './scenarios.js';

// The loader under the Node running the tests (its ES-module hook: whichever this Node supports).
loaderScenarios(t);
