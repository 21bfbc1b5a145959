import { TimeColumns, TokenRecord } from './tokenRecord.js';

/** Options of the bounded token table. */
export interface TokenTableOptions {
  /** Most tokens kept; beyond it the least recently used are evicted (second-chance). */
  maxTokens: number;
  /** Called for each evicted record, so detectors can free its state before its number is reused. */
  onEvict: (record: TokenRecord) => void;
}

const MAX_INTERNED = 100_000;

/**
 * Tokens by id in one Map, each with a dense number for detectors' columns. Access sets a bit instead of reordering the Map, so a lookup
 * costs one hash probe; eviction sweeps in insertion order and gives touched records a
 * second chance (CLOCK), removing 1% at a time so the sweep is amortised.
 */
export class TokenTable {
  private readonly records = new Map<string, TokenRecord>();
  private readonly lists = new Map<string, readonly string[]>();
  private readonly strings = new Map<string, string>();
  /** Numbers of evicted tokens, given to the next new ones: numbers stay at most maxTokens. */
  private readonly freeNumbers: number[] = [];
  private nextNumber = 0;
  private readonly times = new TimeColumns(1024);
  evicted = 0;

  constructor(private readonly options: TokenTableOptions) {}

  get size(): number {
    return this.records.size;
  }

  get(id: string): TokenRecord | undefined {
    const record = this.records.get(id);
    if (record !== undefined) record.ref = true;
    return record;
  }

  create(id: string): TokenRecord {
    const n = this.freeNumbers.pop() ?? this.nextNumber++;
    this.times.reset(n);
    const record = new TokenRecord(id, n, this.times);
    this.records.set(id, record);
    if (this.records.size > this.options.maxTokens) this.evict();
    return record;
  }

  values(): IterableIterator<TokenRecord> {
    return this.records.values();
  }

  /** Share one frozen copy of equal lists: most tokens carry one of a few scope sets. */
  readonly intern = (list: readonly string[]): readonly string[] => {
    if (list.length === 0) return EMPTY;
    const key = list.join('\u001f');
    const known = this.lists.get(key);
    if (known !== undefined) return known;
    const copy = Object.freeze([...list]);
    if (this.lists.size < MAX_INTERNED) this.lists.set(key, copy);
    return copy;
  };

  /** One copy of repeated short strings (principal, tenant, kind): parsed JSON gives each event its own. */
  readonly internString = (text: string): string => {
    if (text === '' || text.length > 128) return text;
    const known = this.strings.get(text);
    if (known !== undefined) return known;
    if (this.strings.size < MAX_INTERNED) this.strings.set(text, text);
    return text;
  };

  private evict(): void {
    const target = Math.floor(this.options.maxTokens * 0.99);
    for (const [id, record] of this.records) {
      if (this.records.size <= target) break;
      this.records.delete(id);
      if (record.ref) {
        record.ref = false;
        this.records.set(id, record);
      } else {
        this.evicted++;
        this.options.onEvict(record);
        this.freeNumbers.push(record.n);
      }
    }
  }
}

const EMPTY: readonly string[] = Object.freeze([]);
