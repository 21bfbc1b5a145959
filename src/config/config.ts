import { readFileSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { parse as parseYaml } from 'yaml';
import { ChoirError } from '../errors.js';

export interface ApiKeyConfig {
  name: string;
  /** `sha256:<hex>` of the key; the key itself is never stored. */
  hash: string;
  scopes: string[];
}

export interface Config {
  log_level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  storage: {
    /** Server mode when set; embedded chDB otherwise. */
    clickhouse_url: string | null;
    username: string;
    password: string;
    database: string;
    /** Embedded mode: chDB data directory (one process owns it). */
    data_dir: string;
    /** Rows older than this many days (by ingestion time) are dropped; 0 keeps everything. */
    retention_days: number;
    /**
     * Names this writer's hash chain (tamper evidence); the host name when empty. Every process
     * writing at the same time needs its own: two sharing one would fork the chain.
     */
    writer_id: string;
  };
  ingest: {
    batch_rows: number;
    batch_ms: number;
    /** Upper bound for one retry back-off when storage is failing. */
    max_backoff_ms: number;
    /** Threads decoding Kafka records off the main thread; 0 decodes on it. */
    decode_workers: number;
  };
  kafka: {
    /** Empty: no Kafka source. */
    brokers: string[];
    topics: string[];
    group_id: string;
    client_id: string;
    /** Adapter per topic (`choir` = contract v1); topics not listed use `choir`. */
    formats: Record<string, string>;
    /**
     * Event time a partition may read ahead of the slowest one still catching up before it waits
     * for it (ingest/partitionAlignment.ts); 0 = never waits.
     */
    max_partition_skew_ms: number;
  };
  http: {
    enabled: boolean;
    host: string;
    port: number;
    max_body_bytes: number;
    api_keys: ApiKeyConfig[];
  };
  security: {
    /** HMAC key for fingerprints of secret-looking values. Clusters must share one. */
    fingerprint_key: string;
    /** HMAC-SHA256 key signing every link of the hash chain; '' leaves links unsigned. `choir verify` needs it too. */
    chain_key: string;
  };
  detect: {
    /** Stream and scheduled detectors in `choir serve`. */
    enabled: boolean;
    /** Rule files (`*.yaml`), loaded at start and reloaded on change. */
    rules_dir: string;
    /**
     * How late (event time) an event may arrive within its source (a Kafka partition, an HTTP
     * request, a file) and still be detected in order; partitions are waited for each at its own pace.
     */
    allowed_lateness_ms: number;
    /** A partition behind its end that delivers nothing for this long (wall clock) stops holding detection back. */
    source_idle_ms: number;
    /** Days of event time learned from the log at start, so a restart does not re-alert; 0: none. */
    rebuild_days: number;
    /** Scheduled (SQL) detectors run each time event time passes a multiple of this. */
    scheduled_every_ms: number;
    /** Alert on order-free rules (lifecycle, scope, allowlist) as soon as the event is stored. */
    early_alerts: boolean;
  };
}

export const DEFAULT_CONFIG: Config = {
  log_level: 'info',
  storage: {
    clickhouse_url: null,
    username: 'default',
    password: '',
    database: 'choir',
    data_dir: '.choir/data',
    retention_days: 0,
    writer_id: '',
  },
  ingest: {
    batch_rows: 20_000,
    // An event waits up to this long for its batch: most of event-to-alert latency at a steady
    // rate. Under saturation batches still fill by rows (bench/ingest: ~16-19k rows at 200 ms).
    batch_ms: 200,
    max_backoff_ms: 10_000,
    // A core for the main thread (Kafka, batcher, detection) and one for ClickHouse; workers get the
    // rest. On 2 cores a worker only adds the cost of passing rows between threads (bench/ingest).
    decode_workers: Math.max(0, Math.min(4, availableParallelism() - 2)),
  },
  kafka: {
    brokers: [],
    topics: ['choir.events'],
    group_id: 'choir',
    client_id: 'choir',
    formats: {},
    max_partition_skew_ms: 60_000,
  },
  http: { enabled: true, host: '127.0.0.1', port: 8080, max_body_bytes: 10 * 1024 * 1024, api_keys: [] },
  security: { fingerprint_key: '', chain_key: '' },
  detect: {
    enabled: true,
    rules_dir: 'rules',
    // Within one source: partitions catching up are waited for by their own event time, so this
    // covers only disorder inside a partition or across HTTP clients, and is most of the latency
    // of order-dependent alerts (new_source, concurrent_sources, request_spike…).
    // bench/detect (d) at 10,000 events/s: 200 ms gives new_source / request_spike p50 ~0.3 s, p99 0.4-0.7 s.
    allowed_lateness_ms: 200,
    source_idle_ms: 10_000,
    rebuild_days: 30,
    scheduled_every_ms: 86_400_000,
    early_alerts: true,
  },
};

const ENV_KEYS: Record<string, { key: string; list?: boolean }> = {
  CLICKHOUSE_URL: { key: 'storage.clickhouse_url' },
  CLICKHOUSE_USER: { key: 'storage.username' },
  CLICKHOUSE_PASSWORD: { key: 'storage.password' },
  CLICKHOUSE_DATABASE: { key: 'storage.database' },
  CHOIR_DATA_DIR: { key: 'storage.data_dir' },
  CHOIR_RETENTION_DAYS: { key: 'storage.retention_days' },
  CHOIR_DECODE_WORKERS: { key: 'ingest.decode_workers' },
  KAFKA_BROKERS: { key: 'kafka.brokers', list: true },
  KAFKA_TOPICS: { key: 'kafka.topics', list: true },
  KAFKA_GROUP_ID: { key: 'kafka.group_id' },
  CHOIR_HTTP_HOST: { key: 'http.host' },
  CHOIR_HTTP_PORT: { key: 'http.port' },
  CHOIR_LOG_LEVEL: { key: 'log_level' },
  CHOIR_FINGERPRINT_KEY: { key: 'security.fingerprint_key' },
  CHOIR_WRITER_ID: { key: 'storage.writer_id' },
  CHOIR_CHAIN_KEY: { key: 'security.chain_key' },
  CHOIR_DETECT: { key: 'detect.enabled' },
  CHOIR_RULES_DIR: { key: 'detect.rules_dir' },
};

type Tree = Record<string, unknown>;

/** Defaults, then the YAML file, then the environment; validated once. Throws CONFIG_INVALID naming the key. */
export function loadConfig(opts: { file?: string; env?: NodeJS.ProcessEnv; overrides?: Tree } = {}): Config {
  const tree = structuredClone(DEFAULT_CONFIG) as unknown as Tree;
  if (opts.file) merge(tree, readYaml(opts.file), '');
  for (const [name, { key, list }] of Object.entries(ENV_KEYS)) {
    const raw = opts.env?.[name];
    if (raw === undefined || raw === '') continue;
    setPath(
      tree,
      key,
      list
        ? raw
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : raw,
    );
  }
  if (opts.overrides) merge(tree, opts.overrides, '');
  return validate(tree);
}

function readYaml(file: string): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ChoirError('CONFIG_INVALID', `cannot read config file ${file}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ChoirError(
      'CONFIG_INVALID',
      `config file ${file} is not valid YAML: ${(err as Error).message}`,
    );
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ChoirError('CONFIG_INVALID', `config file ${file} must hold a mapping of settings`);
  }
  return doc as Tree;
}

function merge(into: Tree, from: Tree, prefix: string): void {
  for (const [k, v] of Object.entries(from)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (!(k in into)) throw invalid(key, 'a known setting (see config/choir.example.yaml)', v);
    const cur = into[k];
    const isMap = cur !== null && typeof cur === 'object' && !Array.isArray(cur);
    if (isMap && key !== 'kafka.formats' && v !== null && typeof v === 'object' && !Array.isArray(v)) {
      merge(cur as Tree, v as Tree, key);
    } else {
      into[k] = v;
    }
  }
}

function setPath(tree: Tree, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = tree;
  for (const p of parts.slice(0, -1)) node = node[p] as Tree;
  node[parts.at(-1)!] = value;
}

function invalid(key: string, expected: string, got: unknown): ChoirError {
  return new ChoirError('CONFIG_INVALID', `"${key}" must be ${expected}, got ${JSON.stringify(got)}`);
}

function str(v: unknown, key: string, opts: { empty?: boolean } = {}): string {
  if (typeof v !== 'string' || (!opts.empty && v.length === 0)) throw invalid(key, 'a non-empty string', v);
  return v;
}

function int(v: unknown, key: string, min: number, max: number): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw invalid(key, `a whole number from ${min} to ${max}`, v);
  }
  return n;
}

function strList(v: unknown, key: string, nonEmpty: boolean, what: string): string[] {
  if (
    !Array.isArray(v) ||
    v.some((s) => typeof s !== 'string' || s.length === 0) ||
    (nonEmpty && !v.length)
  ) {
    throw invalid(key, `a ${nonEmpty ? 'non-empty ' : ''}list of ${what}`, v);
  }
  return v as string[];
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
export const FORMATS = ['choir', 'k8s-audit', 'vault', 'cloudtrail', 'github'];

function validate(t: Tree): Config {
  const s = t.storage as Tree;
  const k = t.kafka as Tree;
  const h = t.http as Tree;
  const i = t.ingest as Tree;
  if (!LOG_LEVELS.includes(t.log_level as string))
    throw invalid('log_level', `one of ${LOG_LEVELS}`, t.log_level);
  const url = s.clickhouse_url;
  if (url !== null && (typeof url !== 'string' || !/^https?:\/\/[^\s]+$/.test(url))) {
    throw invalid(
      'storage.clickhouse_url',
      'an http:// or https:// URL of a ClickHouse server, or null',
      url,
    );
  }
  const database = str(s.database, 'storage.database');
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database))
    throw invalid('storage.database', 'a plain identifier', database);
  const brokers = strList(k.brokers, 'kafka.brokers', false, 'host:port addresses');
  for (const b of brokers)
    if (!/^[^\s:]+:\d+$/.test(b)) throw invalid('kafka.brokers', 'host:port addresses', brokers);
  const formats = (k.formats ?? {}) as Record<string, unknown>;
  if (typeof formats !== 'object' || Array.isArray(formats))
    throw invalid('kafka.formats', 'a topic: format map', formats);
  for (const [topic, f] of Object.entries(formats)) {
    if (!FORMATS.includes(f as string))
      throw invalid(`kafka.formats.${topic}`, `one of ${FORMATS.join(', ')}`, f);
  }
  const keys = h.api_keys;
  if (!Array.isArray(keys)) throw invalid('http.api_keys', 'a list of {name, hash, scopes}', keys);
  const apiKeys = keys.map((key: Tree, n) => {
    const at = `http.api_keys[${n}]`;
    const hash = str(key?.hash, `${at}.hash`);
    if (!/^sha256:[0-9a-f]{64}$/.test(hash))
      throw invalid(`${at}.hash`, 'sha256:<64 hex> (from `choir keys create`)', hash);
    return {
      name: str(key.name, `${at}.name`),
      hash,
      scopes: strList(key.scopes, `${at}.scopes`, true, 'scopes'),
    };
  });
  const sec = t.security as Tree;
  const writerId = str(s.writer_id, 'storage.writer_id', { empty: true }) || hostname();
  const control = [...writerId].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
  if (writerId.length > 128 || control) {
    throw invalid('storage.writer_id', 'at most 128 characters, none of them control characters', writerId);
  }
  const chainKey = str(sec.chain_key, 'security.chain_key', { empty: true });
  if (chainKey.length > 0 && chainKey.length < 16) {
    // The key itself is never echoed, only its length.
    throw new ChoirError(
      'CONFIG_INVALID',
      `"security.chain_key" must be empty (unsigned links) or a secret of at least 16 characters, got ${chainKey.length} characters`,
    );
  }
  const d = t.detect as Tree;
  if (![true, false, 'true', 'false'].includes(d.enabled as string))
    throw invalid('detect.enabled', 'true or false', d.enabled);
  if (![true, false, 'true', 'false'].includes(d.early_alerts as string))
    throw invalid('detect.early_alerts', 'true or false', d.early_alerts);
  return {
    log_level: t.log_level as Config['log_level'],
    storage: {
      clickhouse_url: url as string | null,
      username: str(s.username, 'storage.username'),
      password: str(s.password, 'storage.password', { empty: true }),
      database,
      data_dir: str(s.data_dir, 'storage.data_dir'),
      retention_days: int(s.retention_days, 'storage.retention_days', 0, 36_500),
      writer_id: writerId,
    },
    ingest: {
      batch_rows: int(i.batch_rows, 'ingest.batch_rows', 1, 1_000_000),
      batch_ms: int(i.batch_ms, 'ingest.batch_ms', 1, 600_000),
      max_backoff_ms: int(i.max_backoff_ms, 'ingest.max_backoff_ms', 10, 600_000),
      decode_workers: int(i.decode_workers, 'ingest.decode_workers', 0, 64),
    },
    kafka: {
      brokers,
      topics: strList(k.topics, 'kafka.topics', true, 'topic names'),
      group_id: str(k.group_id, 'kafka.group_id'),
      client_id: str(k.client_id, 'kafka.client_id'),
      formats: formats as Record<string, string>,
      max_partition_skew_ms: int(k.max_partition_skew_ms, 'kafka.max_partition_skew_ms', 0, 7 * 86_400_000),
    },
    http: {
      enabled: h.enabled === true || h.enabled === 'true',
      host: str(h.host, 'http.host'),
      port: int(h.port, 'http.port', 0, 65_535),
      max_body_bytes: int(h.max_body_bytes, 'http.max_body_bytes', 1024, 1024 * 1024 * 1024),
      api_keys: apiKeys,
    },
    security: {
      fingerprint_key: str(sec.fingerprint_key, 'security.fingerprint_key', { empty: true }),
      chain_key: chainKey,
    },
    detect: {
      enabled: d.enabled === true || d.enabled === 'true',
      rules_dir: str(d.rules_dir, 'detect.rules_dir'),
      allowed_lateness_ms: int(d.allowed_lateness_ms, 'detect.allowed_lateness_ms', 0, 7 * 86_400_000),
      source_idle_ms: int(d.source_idle_ms, 'detect.source_idle_ms', 100, 3_600_000),
      rebuild_days: int(d.rebuild_days, 'detect.rebuild_days', 0, 3_650),
      scheduled_every_ms: int(d.scheduled_every_ms, 'detect.scheduled_every_ms', 60_000, 7 * 86_400_000),
      early_alerts: d.early_alerts === true || d.early_alerts === 'true',
    },
  };
}
