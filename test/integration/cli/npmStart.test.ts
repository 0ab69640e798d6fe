import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isListening } from '../../../shared/azure/azurite';
import { freePort, REPO_ROOT } from '../../support/cli';

describe('npm start (after the build)', () => {
  it('starts Azurite, serves GET /api/keyrings with the local ring, and stops both on SIGINT', async () => {
    const [httpPort, blobPort, queuePort] = [await freePort(), await freePort(), await freePort()];
    // What `npm start` runs after `npm run build`; Core Tools cannot be installed here, so the dev host answers.
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'dist/shared/devhost/start.js'), '--port', String(httpPort)], {
      cwd: REPO_ROOT,
      env: { ...process.env, RINGKEEPER_LOCAL_BLOB_PORT: String(blobPort), RINGKEEPER_LOCAL_QUEUE_PORT: String(queuePort), RINGKEEPER_CONFIG: '', RINGKEEPER_CONFIG_JSON: '', AzureWebJobsStorage: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitFor(
        () => /ready on http:\/\/127\.0\.0\.1:\d+/.test(output),
        60_000,
        () => output,
      );
      expect(output).toMatch(/Azure Functions Core Tools not found; running the ringkeeper dev host instead/);
      const response = await fetch(`http://127.0.0.1:${httpPort}/api/keyrings`);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { rings: { ring: string }[] };
      expect(body.rings.map((r) => r.ring)).toEqual(['local']);
      expect(await isListening(blobPort)).toBe(true);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(await isListening(blobPort)).toBe(false);
  });
});

describe('npm start on a busy port (#11 item 6)', () => {
  it('names the port and how to pick another, exits 1 and stops the Azurite it started', async () => {
    const [httpPort, blobPort, queuePort] = [await freePort(), await freePort(), await freePort()];
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(httpPort, '127.0.0.1', resolve));
    try {
      const child = spawn(process.execPath, [path.join(REPO_ROOT, 'dist/shared/devhost/start.js'), '--port', String(httpPort)], {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          RINGKEEPER_LOCAL_BLOB_PORT: String(blobPort),
          RINGKEEPER_LOCAL_QUEUE_PORT: String(queuePort),
          RINGKEEPER_CONFIG: '',
          RINGKEEPER_CONFIG_JSON: '',
          AzureWebJobsStorage: '',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.stdout.resume();
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      expect(code).toBe(1);
      expect(stderr).toContain(`port ${httpPort} on 127.0.0.1 is already in use`);
      expect(stderr).toContain('npm start -- --port N');
      expect(await isListening(blobPort)).toBe(false);
    } finally {
      busy.close();
    }
  }, 90_000);
});

async function waitFor(condition: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out; output so far:\n${describe()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
