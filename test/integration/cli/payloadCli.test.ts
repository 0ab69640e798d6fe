import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, freePort, jsonLines, runCli } from '../../support/cli';

describe('ringkeeper protect / unprotect / inspect on the embedded local default', () => {
  let cwd: string;
  let env: NodeJS.ProcessEnv;
  const shell = (script: string) =>
    spawnSync('bash', ['-c', `set -o pipefail; ${script}`], { cwd, env: { ...process.env, ...env, RK: `${process.execPath} ${CLI}` }, encoding: 'utf8', timeout: 120_000 });

  beforeAll(async () => {
    cwd = mkdtempSync(path.join(tmpdir(), 'ringkeeper-payload-cli-'));
    env = { RINGKEEPER_LOCAL_BLOB_PORT: String(await freePort()), RINGKEEPER_LOCAL_QUEUE_PORT: String(await freePort()), RINGKEEPER_CONFIG: '' };
    const rotate = await runCli(['rotate'], { cwd, env });
    expect(rotate.code, rotate.stderr).toBe(0);
  });

  it('runs the acceptance pipeline, and a wrong purpose exits 1 with payload_invalid', () => {
    const good = shell('echo hello | $RK protect --ring local --purpose a --purpose b | $RK unprotect --ring local --purpose a --purpose b');
    expect(good.status, good.stderr).toBe(0);
    expect(good.stdout).toBe('hello\n');
    const wrong = shell('echo hello | $RK protect --ring local --purpose a --purpose b | $RK unprotect --ring local --purpose a --purpose c');
    expect(wrong.status).toBe(1);
    expect(wrong.stdout).toBe('');
    expect(wrong.stderr).toMatch(/^ring local: payload_invalid: .*\(wrong_purpose\)/m);
  }, 180_000);

  it('round-trips the text form and inspects it', async () => {
    const text = await runCli(['protect', '--ring', 'local', '--app', 'shop', '--purpose', 'Cookies', '--text'], { cwd, env, input: 'session' });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^CfDJ8[A-Za-z0-9_-]+\n$/);
    const back = await runCli(['unprotect', '--ring', 'local', '--app', 'shop', '--purpose', 'Cookies', '--text'], { cwd, env, input: text.stdout });
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toBe('session');

    const [status] = jsonLines((await runCli(['status', '--json'], { cwd, env })).stdout);
    const inspected = await runCli(['inspect', `.AspNetCore.Cookies=${text.stdout.trim()}`, '--json'], { cwd, env });
    expect(inspected.code, inspected.stderr).toBe(0);
    expect(jsonLines(inspected.stdout)).toEqual([
      expect.objectContaining({
        keyId: status.defaultKey,
        unprotectsIn: ['local'],
        findings: ['present in ring local'],
        source: { format: 'cookie', cookie: { name: '.AspNetCore.Cookies', chunks: 0 }, bytes: expect.any(Number) },
      }),
    ]);
    const human = await runCli(['inspect', '-'], { cwd, env, input: text.stdout });
    expect(human.stdout).toContain(`key {${status.defaultKey}}`);
  }, 180_000);

  it.each([
    [['protect'], /protect: --ring NAME is required/],
    [['unprotect', '--ring', 'local', 'payload'], /unprotect: unexpected argument "payload" \(the input is read from stdin\)/],
    [['protect', '--ring', 'local', '--app', 'a', '--app', 'b'], /--app given twice/],
    [['inspect', 'a', 'b'], /inspect: one payload at a time/],
  ])('refuses %j with exit 2', async (args, message) => {
    const r = await runCli(args, { cwd, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('protect on a ring without keys exits 1 with no_default_key and writes nothing', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'ringkeeper-payload-cli-empty-'));
    const r = await runCli(['protect', '--ring', 'local'], { cwd: empty, env, input: 'x' });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^ring local: no_default_key: ring local has no key to protect with/);
  }, 60_000);

  it('inspect exits 1 naming what it could not read', async () => {
    const r = await runCli(['inspect', 'aGVsbG8gd29ybGQ'], { cwd, env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^inspect: payload_invalid: the base64url text decodes to 11 bytes starting 68 65 6C 6C/);
  });
});
