import { amqplibSuite } from './suite.js';

// amqplib 0.10 (the npm alias amqplib0-10), promise and callback APIs; see suite.ts.
amqplibSuite('amqplib0-10', 'amqplib0-10');
