import { spawn } from 'node:child_process';
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
      await waitFor(() => /ready on http:\/\/127\.0\.0\.1:\d+/.test(output), 60_000, () => output);
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

async function waitFor(condition: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out; output so far:\n${describe()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
