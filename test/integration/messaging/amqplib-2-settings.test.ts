import { amqplibSettingsSuite } from './suite.js';

// TRACING_MESSAGING_ROOT_SPANS, TRACING_PROPAGATION and the opt-out, on amqplib 2.x (version-independent code).
amqplibSettingsSuite('amqplib2');
