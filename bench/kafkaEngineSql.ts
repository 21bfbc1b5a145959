import { BROKERS } from './benchConfig.js';

export interface EngineOptions {
  consumers: number;
  /** Rows per block the engine polls before it pushes them through the view. */
  maxBlockSize: number;
  /** Flush a partial block after this long (the engine's counterpart of Choir's batch_ms). */
  flushIntervalMs: number;
  /** One thread per consumer, each flushing its own blocks, instead of one thread for all. */
  threadPerConsumer: boolean;
}

/**
 * The engine reads each message as one string and the view parses it once (JSONExtract into a
 * named tuple) and writes the flat row plus the raw payload: the same parse-and-flatten Choir does,
 * minus what only Choir does (JSON Schema validation, secret redaction, unknown fields kept in
 * attributes, the dedup look-up).
 */
export function kafkaEngineSql(db: string, topic: string, groupId: string, o: EngineOptions): string[] {
  return [
    `CREATE TABLE ${db}.kafka_in (raw String) ENGINE = Kafka SETTINGS
       kafka_broker_list = '${BROKERS.join(',')}',
       kafka_topic_list = '${topic}',
       kafka_group_name = '${groupId}',
       kafka_format = 'JSONAsString',
       kafka_num_consumers = ${o.consumers},
       kafka_disable_num_consumers_limit = 1,
       kafka_thread_per_consumer = ${o.threadPerConsumer ? 1 : 0},
       kafka_max_block_size = ${o.maxBlockSize},
       kafka_flush_interval_ms = ${o.flushIntervalMs},
       kafka_skip_broken_messages = 0`,
    `CREATE MATERIALIZED VIEW ${db}.kafka_mv TO ${db}.token_events AS
     WITH JSONExtract(raw, '${EVENT_TUPLE}') AS e
     SELECT
       e.id AS id,
       e.type AS type,
       parseDateTime64BestEffort(e.time, 3, 'UTC') AS time,
       e.token.id AS token_id,
       e.token.kind AS token_kind,
       if(e.token.principal != '', e.token.principal, if(e.type = 'principal.disabled', e.principal, '')) AS principal,
       e.token.scopes AS scopes,
       parseDateTime64BestEffortOrNull(e.token.expires_at, 3, 'UTC') AS expires_at,
       e.token.allowed_cidrs AS allowed_cidrs,
       e.token.replaces AS replaces,
       e.request.scope AS request_scope,
       e.request.action AS request_action,
       e.request.resource AS request_resource,
       e.request.method AS request_method,
       e.request.path AS request_path,
       e.request.source_ip AS source_ip,
       e.request.user_agent AS user_agent,
       e.request.status AS status,
       e.reason AS reason,
       e.actor AS actor,
       e.tenant AS tenant,
       e.source AS source,
       e.attributes AS attributes,
       raw,
       concat('kafka:', _topic) AS ingest_source,
       toInt32(_partition) AS ingest_partition,
       toInt64(_offset) AS ingest_offset,
       now64(3, 'UTC') AS ingested_at
     FROM ${db}.kafka_in`,
  ];
}

/** Contract v1 as one ClickHouse type: absent fields read as empty values, as normalise() makes them. */
const EVENT_TUPLE = `Tuple(
  id String, type String, time String,
  token Tuple(id String, kind String, principal String, scopes Array(String), expires_at Nullable(String),
              allowed_cidrs Array(String), replaces String),
  request Tuple(scope String, action String, resource String, method String, path String, source_ip String,
                user_agent String, status UInt16),
  reason String, actor String, principal String, tenant String, source String, attributes Map(String, String))`;

export const dropKafkaEngineSql = (db: string): string[] => [
  `DROP VIEW IF EXISTS ${db}.kafka_mv`,
  `DROP TABLE IF EXISTS ${db}.kafka_in`,
];
