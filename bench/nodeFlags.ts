import { readFileSync } from 'node:fs';

/**
 * The V8/Node flags `choir` starts with: the ones after `node` on bin/choir.js's first line. Bench
 * children that run Choir's code take them too, so a benchmark measures Node as Choir runs it.
 */
export function choirNodeFlags(): string[] {
  const shebang = readFileSync(new URL('../bin/choir.js', import.meta.url), 'utf8').split('\n', 1)[0]!;
  const words = shebang.split(/\s+/);
  return words.slice(words.indexOf('node') + 1);
}
