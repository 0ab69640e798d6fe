/**
 * The real Bicep compiler and linter, when this machine has them (.tools/bicep/bicep from
 * infra/scripts/install-bicep.sh, $BICEP_CLI, or `bicep` on PATH). Where the package source does
 * not serve the CLI, the install script records why in .tools/bicep/UNAVAILABLE and these tests
 * skip with that reason; under CI=true a missing CLI *without* that record (the install step did
 * not run) is a failure.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DOCUMENTED_ROLES, INFRA } from './support/checks';

const ROOT = path.resolve(INFRA, '..');
const TOOLS = path.join(ROOT, '.tools/bicep');

function findBicep(): string | undefined {
  const candidates = [process.env.BICEP_CLI, path.join(TOOLS, 'bicep')].filter((c): c is string => !!c);
  for (const c of candidates) if (existsSync(c)) return c;
  const which = spawnSync('sh', ['-c', 'command -v bicep'], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() : undefined;
}

const bicep = findBicep();
const unavailable = existsSync(path.join(TOOLS, 'UNAVAILABLE')) ? readFileSync(path.join(TOOLS, 'UNAVAILABLE'), 'utf8').trim() : undefined;
const reason = bicep ? '' : unavailable ?? 'no Bicep CLI: run `bash infra/scripts/install-bicep.sh` (or set BICEP_CLI)';

function templates(dir = INFRA): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? templates(path.join(dir, e.name)) : e.name.endsWith('.bicep') ? [path.join(dir, e.name)] : [],
  );
}

describe('infra: Bicep CLI availability', () => {
  it('under CI the install step has run (CLI installed, or the source\'s refusal recorded)', () => {
    if (process.env.CI !== 'true') return;
    expect(bicep ?? unavailable, 'CI must run `bash infra/scripts/install-bicep.sh` before the tests').toBeTruthy();
  });
});

describe.skipIf(!bicep)(`infra: bicep build and lint${bicep ? '' : ` (skipped: ${reason})`}`, () => {
  it.each(templates().map((f) => [path.relative(INFRA, f), f]))('bicep lint %s reports no errors', (_name, file) => {
    const r = spawnSync(bicep!, ['lint', file], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toMatch(/\bError\b/);
  });

  it('bicep build compiles main.bicep to ARM JSON with the documented role GUIDs only', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'ringkeeper-bicep-'));
    try {
      execFileSync(bicep!, ['build', path.join(INFRA, 'main.bicep'), '--outdir', out], { encoding: 'utf8' });
      const arm = readFileSync(path.join(out, 'main.json'), 'utf8');
      JSON.parse(arm);
      const guids = new Set(arm.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g) ?? []);
      const documented = new Set<string>(Object.values(DOCUMENTED_ROLES));
      expect([...guids].filter((g) => !documented.has(g))).toEqual([]);
      for (const g of documented) expect(arm).toContain(g);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
