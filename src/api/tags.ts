/**
 * Standard tag names, exactly as OpenTracing spells them, so dashboards and peers agree.
 */
export const Tags = {
  SPAN_KIND: 'span.kind',
  SPAN_KIND_RPC_CLIENT: 'client',
  SPAN_KIND_RPC_SERVER: 'server',
  SPAN_KIND_MESSAGING_PRODUCER: 'producer',
  SPAN_KIND_MESSAGING_CONSUMER: 'consumer',
  ERROR: 'error',
  COMPONENT: 'component',
  SAMPLING_PRIORITY: 'sampling.priority',
  PEER_SERVICE: 'peer.service',
  PEER_HOSTNAME: 'peer.hostname',
  PEER_ADDRESS: 'peer.address',
  PEER_HOST_IPV4: 'peer.ipv4',
  PEER_HOST_IPV6: 'peer.ipv6',
  PEER_PORT: 'peer.port',
  HTTP_URL: 'http.url',
  HTTP_METHOD: 'http.method',
  HTTP_STATUS_CODE: 'http.status_code',
  MESSAGE_BUS_DESTINATION: 'message_bus.destination',
  DB_INSTANCE: 'db.instance',
  DB_STATEMENT: 'db.statement',
  DB_TYPE: 'db.type',
  DB_USER: 'db.user',
} as const;

/** Names of OpenTracing's reference types. */
export const REFERENCE_CHILD_OF = 'child_of';
export const REFERENCE_FOLLOWS_FROM = 'follows_from';
