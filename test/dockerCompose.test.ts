import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../src/config/config.js';

// No Docker engine runs where the tests do: the compose file is checked statically.
const compose = parse(readFileSync(new URL('../docker-compose.yml', import.meta.url), 'utf8'));

describe('docker-compose.yml', () => {
  it('runs ClickHouse, Kafka and Choir in server mode', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['choir', 'clickhouse', 'kafka']);
    expect(compose.services.choir.depends_on).toEqual(['clickhouse', 'kafka']);
    expect(compose.services.choir.environment.CLICKHOUSE_URL).toBe('http://clickhouse:8123');
  });

  it('gives Choir an environment its config loader accepts', () => {
    const env = { ...compose.services.choir.environment, CHOIR_FINGERPRINT_KEY: 'k' };
    const config = loadConfig({ env });
    expect(config.storage.clickhouse_url).toBe('http://clickhouse:8123');
    expect(config.kafka.brokers).toEqual(['kafka:9092']);
    expect(config.http.host).toBe('0.0.0.0');
  });

  it('advertises the Kafka listener that Choir connects to', () => {
    const kafka = compose.services.kafka.environment;
    expect(kafka.KAFKA_ADVERTISED_LISTENERS).toContain(compose.services.choir.environment.KAFKA_BROKERS);
  });
});
