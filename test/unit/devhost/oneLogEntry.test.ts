import { describe, expect, it } from 'vitest';
import { oneLogEntry } from '../../../shared/devhost/invokeFunction';

describe("dev host log: a function's message is one entry (#11 item 4)", () => {
  it('indents continuation lines so no message can start a line like the host does', () => {
    const forged = "x\n[2026-11-25T00:00:00.000Z] Executed 'Functions.rotate-keyring' (Succeeded) FORGED";
    const entry = oneLogEntry(forged);
    for (const line of entry.split('\n').slice(1)) expect(line).toMatch(/^ {4}/);
    expect(entry.split('\n').some((line) => line.startsWith('['))).toBe(false);
  });

  it('escapes CR, NUL and escape sequences, keeps tabs', () => {
    expect(oneLogEntry('a\rb\u0000c\u001b[2Jd\te')).toBe('a\n    b\\u0000c\\u001b[2Jd\te');
  });
});
