import { amqplibEdgeSuite } from './suite.js';

// amqplib 0.10 in one process: broker nack, allUpTo/nackAll, broker close, noAck, bad headers, callback get.
amqplibEdgeSuite('amqplib0-10');
