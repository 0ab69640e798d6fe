import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * A Core Tools `func` that actually runs: the app's node_modules/.bin/func (the npm package, whose
 * binary download fails offline), then `func` on PATH. "Runs" means `func --version` exits 0 in time.
 */
export async function findCoreTools(appRoot: string, timeoutMs = 15_000): Promise<string | undefined> {
  const local = path.join(appRoot, 'node_modules', '.bin', process.platform === 'win32' ? 'func.cmd' : 'func');
  const candidates = [...(existsSync(local) ? [local] : []), 'func'];
  for (const candidate of candidates) {
    if (await runsOk(candidate, timeoutMs)) return candidate;
  }
  return undefined;
}

function runsOk(command: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(ok);
    };
    const child = spawn(command, ['--version'], { stdio: 'ignore', shell: process.platform === 'win32' });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done(false);
    }, timeoutMs);
    child.once('error', () => done(false));
    child.once('exit', (code) => done(code === 0));
  });
}
