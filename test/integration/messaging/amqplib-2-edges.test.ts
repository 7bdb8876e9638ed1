import { amqplibEdgeSuite } from './suite.js';

// amqplib 2.x in one process: broker nack, allUpTo/nackAll, broker close, noAck, bad headers, callback get.
amqplibEdgeSuite('amqplib2');
