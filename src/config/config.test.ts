import { mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, loadConfig } from './config.js';

function yamlFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'choir-config-')), 'choir.yaml');
  writeFileSync(file, text);
  return file;
}

describe('loadConfig()', () => {
  it('starts from the embedded defaults', () => {
    const c = loadConfig();
    expect(c.storage.clickhouse_url).toBeNull();
    expect(c.kafka.brokers).toEqual([]);
    expect(c.ingest).toEqual(DEFAULT_CONFIG.ingest);
  });

  it('layers YAML over defaults and the environment over YAML', () => {
    const file = yamlFile(
      'kafka:\n  topics: [a, b]\n  group_id: from-yaml\nstorage:\n  retention_days: 30\n',
    );
    const c = loadConfig({ file, env: { KAFKA_GROUP_ID: 'from-env', KAFKA_BROKERS: 'k1:9092, k2:9092' } });
    expect(c.kafka.topics).toEqual(['a', 'b']);
    expect(c.kafka.group_id).toBe('from-env');
    expect(c.kafka.brokers).toEqual(['k1:9092', 'k2:9092']);
    expect(c.storage.retention_days).toBe(30);
  });

  it('names the key and what is expected for an invalid value', () => {
    expect(() => loadConfig({ file: yamlFile('kafka:\n  topics: []\n') })).toThrow(
      '"kafka.topics" must be a non-empty list of topic names, got []',
    );
    expect(() => loadConfig({ env: { CLICKHOUSE_URL: 'localhost:8123' } })).toThrow(
      /"storage.clickhouse_url" must be an http/,
    );
    expect(() => loadConfig({ env: { KAFKA_BROKERS: 'nohost' } })).toThrow(
      /"kafka.brokers" must be host:port/,
    );
    expect(() => loadConfig({ env: { CHOIR_HTTP_PORT: '99999' } })).toThrow(
      /"http.port" must be a whole number from 0 to 65535/,
    );
  });

  it('refuses unknown keys instead of ignoring a typo', () => {
    expect(() => loadConfig({ file: yamlFile('kafka:\n  topic: x\n') })).toThrow(
      /"kafka.topic" must be a known setting/,
    );
  });

  it('refuses an API key entry that holds something other than a hash', () => {
    const file = yamlFile(
      'http:\n  api_keys:\n    - name: ci\n      hash: choir_rawkey\n      scopes: [ingest]\n',
    );
    expect(() => loadConfig({ file })).toThrow(/"http.api_keys\[0\].hash" must be sha256:<64 hex>/);
  });

  it('refuses an unknown per-topic format', () => {
    const file = yamlFile('kafka:\n  formats:\n    audit: syslog\n');
    expect(() => loadConfig({ file })).toThrow(/"kafka.formats.audit" must be one of choir, k8s-audit/);
  });

  it('names the hash chain after the host unless storage.writer_id says otherwise', () => {
    expect(loadConfig().storage.writer_id).toBe(hostname());
    expect(loadConfig({ env: { CHOIR_WRITER_ID: 'ingest-1' } }).storage.writer_id).toBe('ingest-1');
    expect(() => loadConfig({ file: yamlFile('storage:\n  writer_id: "a\\tb"\n') })).toThrow(
      /"storage.writer_id" must be at most 128 characters, none of them control characters/,
    );
  });

  it('takes a chain key of 16 characters or more and never echoes a short one', () => {
    expect(loadConfig({ env: { CHOIR_CHAIN_KEY: 'k'.repeat(16) } }).security.chain_key).toBe('k'.repeat(16));
    expect(() => loadConfig({ env: { CHOIR_CHAIN_KEY: 'hunter2' } })).toThrow(
      '"security.chain_key" must be empty (unsigned links) or a secret of at least 16 characters, got 7 characters',
    );
  });

  it('says which file is not YAML', () => {
    const file = yamlFile('kafka: [unclosed\n');
    expect(() => loadConfig({ file })).toThrow(new RegExp(`config file ${file} is not valid YAML`));
  });
});
