import type { ASTNode } from '@marcbachmann/cel-js';
import { EVENT_FIELDS, PRINCIPAL_FIELDS, TOKEN_FIELDS } from './celEnv.js';

export type Kind = 'string' | 'double' | 'bool' | 'list' | 'map' | 'null';
export interface Code {
  js: string;
  kind: Kind;
}

/** The operand uses something the prefilter does not compile: leave it to CEL. */
export class Unsupported extends Error {}

const ROOTS: Record<string, { v: string; fields: Record<string, string> }> = {
  event: { v: 'e', fields: EVENT_FIELDS },
  token: { v: 't', fields: TOKEN_FIELDS },
  principal: { v: 'p', fields: PRINCIPAL_FIELDS },
};
const FUNCTIONS: Record<string, Kind> = {
  scopeCovered: 'bool',
  inCidrs: 'bool',
  inCidr: 'bool',
  network: 'string',
};
const STRING_METHODS: Record<string, string> = {
  startsWith: 'startsWith',
  endsWith: 'endsWith',
  contains: 'includes',
};

/**
 * Compiles one CEL operand to a JS expression over `e` (the stored event), `t` (the token
 * record), `p` (the principal view), `k` (constant lists) and `f` (Choir's functions), with
 * static types so that only operations whose JS meaning equals CEL's are emitted.
 */
export class Compiler {
  /** False once a map lookup is used: JS yields undefined where CEL raises "no such key". */
  exact = true;

  constructor(
    private readonly constants: Record<string, unknown>,
    private readonly params: Record<string, unknown>,
    private readonly values: unknown[],
  ) {}

  node(n: ASTNode): Code {
    switch (n.op) {
      case 'value':
        return this.literal(n.args);
      case 'id':
        return this.constant(this.constants[n.args]);
      case '.':
        return this.field(n.args[0], n.args[1]);
      case '[]': {
        const [map, key] = [this.node(n.args[0]), this.node(n.args[1])];
        if (map.kind !== 'map' || key.kind !== 'string') throw new Unsupported();
        this.exact = false;
        return { js: `${map.js}[${key.js}]`, kind: 'string' };
      }
      case 'list':
        return this.constant(n.args.map((item) => this.staticValue(item)));
      case '!_':
        return { js: `!${this.typed(n.args, 'bool')}`, kind: 'bool' };
      case '-_':
        return { js: `(-${this.typed(n.args, 'double')})`, kind: 'double' };
      case '&&':
      case '||':
        return {
          js: `(${this.typed(n.args[0], 'bool')} ${n.op} ${this.typed(n.args[1], 'bool')})`,
          kind: 'bool',
        };
      case '?:': {
        const [a, b] = [this.node(n.args[1]), this.node(n.args[2])];
        if (a.kind !== b.kind) throw new Unsupported();
        return { js: `(${this.typed(n.args[0], 'bool')} ? ${a.js} : ${b.js})`, kind: a.kind };
      }
      case 'call':
        return this.call(n.args[0], n.args[1]);
      case 'rcall':
        return this.method(n.args[0], n.args[1], n.args[2]);
      default:
        return this.binary(n);
    }
  }

  private binary(n: ASTNode): Code {
    if (!Array.isArray(n.args) || n.args.length !== 2) throw new Unsupported();
    const [a, b] = [this.node(n.args[0] as ASTNode), this.node(n.args[1] as ASTNode)];
    const primitive = (c: Code) =>
      c.kind === 'string' || c.kind === 'double' || c.kind === 'bool' || c.kind === 'null';
    switch (n.op) {
      case '==':
      case '!=':
        if (!primitive(a) || !primitive(b)) throw new Unsupported();
        return { js: `(${a.js} ${n.op}= ${b.js})`, kind: 'bool' };
      case '<':
      case '<=':
      case '>':
      case '>=':
        if (a.kind !== 'double' || b.kind !== 'double') throw new Unsupported();
        return { js: `(${a.js} ${n.op} ${b.js})`, kind: 'bool' };
      case '+':
      case '-':
      case '*':
        if (a.kind !== b.kind || (a.kind !== 'double' && !(a.kind === 'string' && n.op === '+'))) {
          throw new Unsupported();
        }
        return { js: `(${a.js} ${n.op} ${b.js})`, kind: a.kind };
      case 'in':
        if (!primitive(a)) throw new Unsupported();
        if (b.kind === 'list') return { js: `${b.js}.includes(${a.js})`, kind: 'bool' };
        if (b.kind === 'map') return { js: `Object.hasOwn(${b.js}, ${a.js})`, kind: 'bool' };
        throw new Unsupported();
      default:
        throw new Unsupported();
    }
  }

  private field(target: ASTNode, name: string): Code {
    if (target.op !== 'id') throw new Unsupported();
    if (target.args === 'params') return this.constant(this.params[name]);
    const root = ROOTS[target.args];
    const type = root?.fields[name];
    if (!root || !type) throw new Unsupported();
    if (root.v === 'e' && name === 'expires_at') return { js: '(e.expires_at ?? Infinity)', kind: 'double' };
    return { js: `${root.v}.${name}`, kind: kindOf(type) };
  }

  private call(name: string, args: ASTNode[]): Code {
    if (name === 'size' && args.length === 1) return this.size(this.node(args[0] as ASTNode));
    const kind = FUNCTIONS[name];
    if (!kind) throw new Unsupported();
    return { js: `f.${name}(${args.map((a) => this.node(a).js).join(', ')})`, kind };
  }

  private method(name: string, receiver: ASTNode, args: ASTNode[]): Code {
    if (name === 'size' && args.length === 0) return this.size(this.node(receiver));
    const js = STRING_METHODS[name];
    if (!js || args.length !== 1) throw new Unsupported();
    return {
      js: `${this.typed(receiver, 'string')}.${js}(${this.typed(args[0] as ASTNode, 'string')})`,
      kind: 'bool',
    };
  }

  private size(of: Code): Code {
    if (of.kind === 'list') return { js: `${of.js}.length`, kind: 'double' };
    // CEL counts code points, JS counts UTF-16 units.
    if (of.kind === 'string') return { js: `[...${of.js}].length`, kind: 'double' };
    if (of.kind === 'map') return { js: `Object.keys(${of.js}).length`, kind: 'double' };
    throw new Unsupported();
  }

  private typed(n: ASTNode, kind: Kind): string {
    const code = this.node(n);
    if (code.kind !== kind) throw new Unsupported();
    return code.js;
  }

  private staticValue(n: ASTNode): unknown {
    if (n.op !== 'value') throw new Unsupported();
    return typeof n.args === 'bigint' ? Number(n.args) : n.args;
  }

  private literal(value: unknown): Code {
    if (typeof value === 'bigint') return { js: String(Number(value)), kind: 'double' };
    return this.constant(value);
  }

  private constant(value: unknown): Code {
    if (typeof value === 'string') return { js: JSON.stringify(value), kind: 'string' };
    if (typeof value === 'number') return { js: String(value), kind: 'double' };
    if (typeof value === 'boolean') return { js: String(value), kind: 'bool' };
    if (value === null) return { js: 'null', kind: 'null' };
    if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number')) {
      this.values.push(value);
      return { js: `k[${this.values.length - 1}]`, kind: 'list' };
    }
    throw new Unsupported();
  }
}

function kindOf(type: string): Kind {
  if (type.startsWith('list')) return 'list';
  if (type.startsWith('map')) return 'map';
  return type as Kind;
}
