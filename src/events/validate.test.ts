import { describe, expect, it } from 'vitest';
import { createValidator } from './validate.js';

const validate = createValidator();
const time = '2026-03-01T10:00:00.123Z';
const reason = (value: unknown) => {
  const v = validate(value);
  return v.ok ? 'ok' : v.reason;
};

describe('createValidator()', () => {
  // Each type is checked against the schema with only its own `if type = X then …` rules (see
  // typeSchemas): every type must still get exactly its rules, and no other type's.
  it("applies each type's own required fields and no other type's", () => {
    expect(reason({ id: 'e', type: 'token.issued', time, token: { id: 't' } })).toBe(
      'missing required field "token.kind"; missing required field "token.scopes"',
    );
    expect(reason({ id: 'e', type: 'token.used', time, token: { id: 't' } })).toBe(
      'missing required field "request"',
    );
    expect(reason({ id: 'e', type: 'token.revoked', time })).toBe('missing required field "token"');
    expect(reason({ id: 'e', type: 'principal.disabled', time })).toBe('missing required field "principal"');
    // What another type requires is not asked of this one.
    expect(reason({ id: 'e', type: 'token.revoked', time, token: { id: 't' } })).toBe('ok');
    expect(reason({ id: 'e', type: 'principal.disabled', time, principal: 'p' })).toBe('ok');
  });

  it('checks an event of no known type against the whole schema', () => {
    // No type: every `if` holds (it only looks at a type that is there), so every type's rules apply.
    expect(reason({ id: 'e', time, token: { id: 't' } })).toBe(
      'missing required field "token.kind"; missing required field "token.scopes"; missing required field "request"; ' +
        'missing required field "principal"; missing required field "type"',
    );
    expect(reason({ id: 'e', type: 'token.stolen', time })).toBe(
      '"type" must be one of token.issued, token.used, token.revoked, principal.disabled',
    );
    expect(reason(null)).toBe('the event must be an object');
  });

  it('counts string lengths in characters, as JSON Schema does, not in UTF-16 units', () => {
    // "id" allows 128 characters; 100 emoji are 200 UTF-16 units, past the fast path's count.
    const event = (id: string) => ({ id, type: 'token.revoked', time, token: { id: 't' } });
    expect(reason(event('😀'.repeat(100)))).toBe('ok');
    expect(reason(event('😀'.repeat(129)))).toBe('"id" must NOT have more than 128 characters');
    expect(reason(event(''))).toMatch(/^"id" must NOT have fewer than 1 characters/);
  });
});
