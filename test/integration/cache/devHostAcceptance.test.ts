import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runProcess } from '../../support/runProcess';
import { azurite } from '../../support/storage';
import { cacheSetup, waitFor } from './cacheHarness';

/**
 * The acceptance, end to end through real processes: `ringkeeper dev` runs the compiled
 * functions (fan-out included), three `ringkeeper cache tail --json` print what one
 * `ringkeeper cache publish` journals. The app is compiled into a temporary app root so the test
 * never depends on (or overwrites) ./dist, and it talks to the run's Azurite with unique names
 * instead of the fixed-port embedded default, so it cannot collide with other tests.
 */
const repo = path.resolve(__dirname, '../../..');

interface Proc {
  child: ChildProcess;
  out: string;
  err: string;
  exit: Promise<number | null>;
}

describe('acceptance: ringkeeper dev + 3 × cache tail + cache publish (processes)', () => {
  const setup = cacheSetup();
  let app: string;
  let config: string;
  const procs: Proc[] = [];

  const cli = (args: string[], stdin?: string): Proc => {
    const main = path.join(app, 'dist', 'shared', 'cli', 'main.js');
    const child = spawn(process.execPath, ['-e', `require(${JSON.stringify(main)}).main(process.argv.slice(1)).then((c) => { process.exitCode = c; })`, ...args], {
      cwd: app,
      env: { ...process.env, AzureWebJobsStorage: azurite().connectionString, RINGKEEPER_CONFIG: '', RINGKEEPER_CONFIG_JSON: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const p: Proc = { child, out: '', err: '', exit: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
    child.stdout.on('data', (c: Buffer) => (p.out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (p.err += c.toString()));
    child.stdin.end(stdin ?? '');
    procs.push(p);
    return p;
  };

  beforeAll(async () => {
    app = mkdtempSync(path.join(tmpdir(), 'rk-accept-'));
    copyFileSync(path.join(repo, 'package.json'), path.join(app, 'package.json'));
    copyFileSync(path.join(repo, 'host.json'), path.join(app, 'host.json'));
    symlinkSync(path.join(repo, 'node_modules'), path.join(app, 'node_modules'), 'dir');
    // Emits even if another part of the tree has type errors; what matters is that the entry points exist.
    await runProcess(process.execPath, [path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(repo, 'tsconfig.json'), '--outDir', path.join(app, 'dist')]);
    for (const f of ['shared/cli/main.js', 'functions/fanOutCacheInstructions.js']) {
      if (!existsSync(path.join(app, 'dist', f))) throw new Error(`compiling the app did not produce dist/${f}`);
    }
    config = path.join(app, 'ringkeeper.json');
    writeFileSync(config, JSON.stringify({ storage: { connectionString: azurite().connectionString }, rings: [], cache: { ...setup.raw, storage: undefined } }));
  });

  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    rmSync(app, { recursive: true, force: true });
  });

  it('each tail prints all 100 published instructions in publish order, exactly once', { timeout: 120_000 }, async () => {
    const dev = cli(['dev', '--port', '0', '--config', config]);
    await waitFor(() => dev.out.includes('ready on'), 60_000, 'dev host ready');
    expect(dev.out).toContain(`listening on queue '${setup.config.instructionsQueue}'`);
    const tails = [0, 1, 2].map(() => cli(['cache', 'tail', '--channel', 'production', '--json', '--config', config]));
    await waitFor(() => tails.every((t) => t.err.includes('tailing production')), 60_000, 'tails registered');

    const ndjson = Array.from({ length: 100 }, (_, i) => JSON.stringify([{ refresher: 'content', type: 'RefreshByIds', ids: [i + 1] }])).join('\n');
    const publish = cli(['cache', 'publish', '--channel', 'production', '--config', config], ndjson);
    expect(await publish.exit).toBe(0);
    const published = publish.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { sequence: number; id: string });
    expect(published).toHaveLength(100);

    await waitFor(() => tails.every((t) => t.out.trim().split('\n').filter(Boolean).length >= 100), 60_000, 'tails to print 100');
    await new Promise((r) => setTimeout(r, 1000)); // a duplicate would show up here
    for (const t of tails) {
      const lines = t.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { sequence: number; id: string; instructions: Array<{ ids: number[] }> });
      expect(lines.map((l) => [l.sequence, l.id])).toEqual(published.map((p) => [p.sequence, p.id]));
      expect(lines.map((l) => l.instructions[0]!.ids[0])).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    }
    for (const p of [...tails, dev]) p.child.kill('SIGINT');
    expect(await Promise.all(tails.map((t) => t.exit))).toEqual([0, 0, 0]);
    await dev.exit;
  });
});
