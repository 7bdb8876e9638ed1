import { amqplibSuite } from './suite.js';

// amqplib 2.x, the newest line (the npm alias amqplib2), promise and callback APIs; see suite.ts.
amqplibSuite('amqplib2', 'amqplib2');
