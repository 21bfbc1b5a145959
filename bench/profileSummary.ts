/**
 * Where a `--cpu-prof` profile's main-thread time went: self time per function and total
 * (self + callees) time for the functions passed with --focus.
 *
 *   node --import tsx bench/profileSummary.ts FILE.cpuprofile [--top 25] [--focus toRows,encodeEvents]
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { intArg, parseArgs } from './args.js';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const [file, ...rest] = process.argv.slice(2);
if (!file) throw new Error('usage: profileSummary.ts FILE.cpuprofile [--top N] [--focus a,b]');
const args = parseArgs(rest);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const selfUs = new Map<number, number>();
for (const [i, id] of profile.samples.entries()) {
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}

const label = (n: Node) => {
  const { functionName, url, lineNumber } = n.callFrame;
  const where = url ? `${relative(process.cwd(), url.replace('file://', ''))}:${lineNumber + 1}` : '';
  return `${functionName || '(anonymous)'} ${where}`.trim();
};

const self = new Map<string, number>();
for (const [id, us] of selfUs) self.set(label(byId.get(id)!), (self.get(label(byId.get(id)!)) ?? 0) + us);

// Total time of a function: every sample with it somewhere on the stack, counted once.
const focus = args.get('focus')?.split(',') ?? [];
const total = new Map<string, number>(focus.map((f) => [f, 0]));
for (const [id, us] of selfUs) {
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const name = byId.get(cur)!.callFrame.functionName;
    if (total.has(name) && !seen.has(name)) {
      seen.add(name);
      total.set(name, total.get(name)! + us);
    }
  }
}

const ms = (us: number) => Math.round(us / 1000);
const top = intArg(args, 'top', 25);
console.log(
  JSON.stringify(
    {
      wall_ms: ms(profile.endTime - profile.startTime),
      total_ms: Object.fromEntries([...total].map(([k, v]) => [k, ms(v)])),
      self_ms: Object.fromEntries(
        [...self]
          .sort((a, b) => b[1] - a[1])
          .slice(0, top)
          .map(([k, v]) => [k, ms(v)]),
      ),
    },
    null,
    2,
  ),
);
