const DAY_MS = 86_400_000;
const PAD2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/**
 * `Date.prototype.toISOString()` for epoch ms from 1970 to 9999, without building a Date:
 * the day's prefix is cached, the rest is table look-ups (toISOString was half the generator's time).
 */
export function createIsoFormatter(): (ms: number) => string {
  let day = Number.NaN;
  let prefix = '';
  return (time) => {
    const ms = Math.floor(time);
    const d = Math.floor(ms / DAY_MS);
    if (d !== day) {
      day = d;
      prefix = new Date(d * DAY_MS).toISOString().slice(0, 11);
    }
    let rest = ms - d * DAY_MS;
    const milli = rest % 1000;
    rest = (rest - milli) / 1000;
    const s = rest % 60;
    rest = (rest - s) / 60;
    const m = rest % 60;
    const h = (rest - m) / 60;
    return `${prefix}${PAD2[h]}:${PAD2[m]}:${PAD2[s]}.${PAD3[milli]}Z`;
  };
}
