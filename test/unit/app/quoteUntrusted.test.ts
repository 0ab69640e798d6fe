import { describe, expect, it } from 'vitest';
import { quoteUntrusted } from '../../../shared/app/quoteUntrusted';

describe('quoteUntrusted (#11 item 4)', () => {
  it.each([
    ['a newline', 'a\nb', '"a\\nb"'],
    ['CR and NUL', 'a\r\u0000', '"a\\r\\u0000"'],
    ['quotes and backslashes', 'a"\\', '"a\\"\\\\"'],
    ['line and paragraph separators, DEL and C1', '\u2028\u2029\u007f\u0085', '"\\u2028\\u2029\\u007f\\u0085"'],
    ['ESC (terminal escapes)', '\u001b[31m', '"\\u001b[31m"'],
  ])('escapes %s', (_label, value, quoted) => {
    expect(quoteUntrusted(value)).toBe(quoted);
  });

  it('truncates long values and says by how much', () => {
    const quoted = quoteUntrusted('y'.repeat(10_000));
    expect(quoted).toBe(`"${'y'.repeat(100)}"… (9900 more characters)`);
  });
});
