import { describe, expect, it } from 'vitest';
import { expandMacros, MacroError } from './macros.js';

describe('expandMacros()', () => {
  const macros = new Map([
    ['token_use', 'event.type == "token.used"'],
    ['risky', 'token_use && event.status < 400'],
  ]);

  it('substitutes macros recursively, in parentheses', () => {
    expect(expandMacros('risky || false', macros)).toBe(
      '((event.type == "token.used") && event.status < 400) || false',
    );
  });

  it('leaves string literals, fields and function names alone', () => {
    const text = 'event.token_use == "token_use" && token_use(1) && \'risky\' != r"risky"';
    expect(expandMacros(text, macros)).toBe(text);
  });

  it('refuses cycles', () => {
    expect(() =>
      expandMacros(
        'a',
        new Map([
          ['a', 'b'],
          ['b', 'a'],
        ]),
      ),
    ).toThrow(MacroError);
  });
});
