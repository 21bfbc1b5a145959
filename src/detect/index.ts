/** Detection: rules, the stream engine and its alerts. What other stages import. */
export type {
  Alert,
  AlertChange,
  AlertDetails,
  AlertSink,
  AlertStatus,
  ResponsePolicy,
  Severity,
} from './alert.js';
export { alertId, SEVERITIES } from './alert.js';
export { KNOWN_KINDS, SCHEDULED_KINDS } from './detectors/index.js';
export { createEngine, Engine, type EngineOptions, type EngineStats } from './engine.js';
export type { EngineSnapshot } from './engineSnapshot.js';
export { expandFixtureEvents, type FixtureEvent } from './fixtureEvent.js';
export { replayEvents } from './replayEvents.js';
export type { RuleSpec } from './ruleSchema.js';
export {
  type CompiledRule,
  compileRuleSet,
  loadRules,
  RuleLoadError,
  type RuleSet,
  type RuleSource,
} from './rules.js';
export { type RuleTestReport, type RuleTestResult, runRuleTests } from './ruleTests.js';
export type { TokenFacts } from './tokenRecord.js';
export { type RuleWatcher, watchRules } from './watchRules.js';
