import { watch } from 'node:fs';
import type { Logger } from 'pino';
import { loadRules, type RuleSet } from './rules.js';

export interface WatchRulesOptions {
  logger: Logger;
  /** Quiet time after the last change before reloading (editors write files in bursts). */
  debounceMs?: number;
  /** A reload failed: the previous rules stay in force. */
  onError?: (error: Error) => void;
}

export interface RuleWatcher {
  close(): void;
}

/**
 * Reload `dir` when a file in it changes and hand the new RuleSet to `onChange` (typically
 * `engine.setRules`). A broken edit is logged and reported, never applied: the engine keeps
 * running the last rules that loaded.
 */
export function watchRules(
  dir: string,
  onChange: (rules: RuleSet) => void,
  options: WatchRulesOptions,
): RuleWatcher {
  const log = options.logger.child({ module: 'rules-watch' });
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let latest = 0;
  const reload = async (seq: number) => {
    try {
      const rules = await loadRules(dir);
      // A slower earlier reload must not overwrite a newer one.
      if (closed || seq !== latest) return;
      log.info({ dir, rules: rules.rules.length }, 'rules reloaded');
      onChange(rules);
    } catch (error) {
      if (closed || seq !== latest) return;
      log.error({ dir, err: error }, 'rules not reloaded: keeping the previous rules');
      options.onError?.(error as Error);
    }
  };
  const watcher = watch(dir, () => {
    clearTimeout(timer);
    timer = setTimeout(() => void reload(++latest), options.debounceMs ?? 200);
  });
  watcher.on('error', (error) => log.error({ dir, err: error }, 'watching the rules directory failed'));
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      watcher.close();
    },
  };
}
