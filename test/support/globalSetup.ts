import { execFileSync } from 'node:child_process';

/**
 * Tests talk to a real broker: KAFKA_BROKERS when set, else the local single-node broker of
 * scripts/kafka.sh (started here if needed; the script is idempotent).
 */
export default function setup(): void {
  if (process.env.KAFKA_BROKERS) return;
  const out = execFileSync('bash', ['scripts/kafka.sh', 'start'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const m = /KAFKA_BROKERS=(\S+)/.exec(out);
  if (!m) throw new Error(`scripts/kafka.sh start did not print KAFKA_BROKERS:\n${out}`);
  process.env.KAFKA_BROKERS = m[1];
}
