import type { CelContext } from './celEnv.js';

/** Renders a rule's `output` from the matching event: `{event.source_ip}`, `{token.kind}`, … */
export type Template = (ctx: CelContext, context: Record<string, string | number | boolean>) => string;

const PLACEHOLDER = /\{([a-z_]+(?:\.[a-z_]+)?)\}/g;

/**
 * Compile `text` once. Placeholders name `event.*`, `token.*`, `principal.*`, `params.*`
 * or a finding's context key (`{network}`); times render as ISO 8601, never-happened as
 * `never`, lists comma-separated, unknown names stay as written.
 */
export function compileTemplate(text: string): Template {
  const parts = text.split(PLACEHOLDER);
  return (ctx, context) =>
    parts
      .map((part, i) => {
        if (i % 2 === 0) return part;
        const [root, field] = part.split('.');
        const value =
          field === undefined
            ? context[root as string]
            : (ctx[root as keyof CelContext] as unknown as Record<string, unknown> | undefined)?.[field];
        return value === undefined ? `{${part}}` : render(field ?? root ?? '', value);
      })
      .join('');
}

function render(name: string, value: unknown): string {
  if (typeof value === 'number' && (name === 'time' || name.endsWith('_at'))) {
    return Number.isFinite(value) ? new Date(value).toISOString() : 'never';
  }
  return Array.isArray(value) ? value.join(',') : String(value);
}
