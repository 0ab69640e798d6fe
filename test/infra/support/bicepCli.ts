/**
 * The real Bicep CLI (the judge of every template): found at $BICEP_CLI, .tools/bicep/bicep (from
 * infra/scripts/install-bicep.sh) or on PATH. Under CI=true a missing CLI is a test failure; on a
 * machine without it the compiler tests skip and say how to install it.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { INFRA } from './checks';

export const ROOT = path.resolve(INFRA, '..');
export const INSTALL_SCRIPT = path.join(INFRA, 'scripts/install-bicep.sh');

function findBicep(): string | undefined {
  for (const c of [process.env.BICEP_CLI, path.join(ROOT, '.tools/bicep/bicep')]) if (c && existsSync(c)) return c;
  const which = spawnSync('sh', ['-c', 'command -v bicep'], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() : undefined;
}

export const BICEP = findBicep();
export const MISSING_BICEP = 'no Bicep CLI: run `bash infra/scripts/install-bicep.sh` (installs the pinned version into .tools/bicep) or set BICEP_CLI';

export interface Compiled {
  /** The ARM JSON, or undefined when the build failed. */
  arm: any;
  /** Every diagnostic (errors, warnings, linter findings), one per line, file paths relative to the tree. */
  diagnostics: string[];
}

export function bicepVersion(): string {
  const r = spawnSync(BICEP!, ['--version'], { encoding: 'utf8' });
  return /(\d+\.\d+\.\d+)/.exec(r.stdout)?.[1] ?? `unknown (${r.stdout}${r.stderr})`;
}

/** `bicep lint <file>`: its diagnostics (one per line) and exit status. */
export function lint(file: string): { status: number | null; diagnostics: string[] } {
  const r = spawnSync(BICEP!, ['lint', file], { encoding: 'utf8' });
  return { status: r.status, diagnostics: `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim()) };
}

/**
 * Builds main.bicep of several copies of infra/ in one CLI run (`bicep build --pattern`), each copy
 * with some files replaced (path relative to infra/ -> content). Returns each tree's ARM JSON and
 * diagnostics, keyed like the input.
 */
export function compileTrees(trees: Map<string, Map<string, string>>): Map<string, Compiled> {
  const work = mkdtempSync(path.join(tmpdir(), 'ringkeeper-bicep-'));
  try {
    const dirs = new Map<string, string>();
    [...trees.keys()].forEach((name, i) => {
      const dir = path.join(work, `t${i}`);
      cpSync(INFRA, dir, { recursive: true });
      for (const [rel, text] of trees.get(name)!) writeFileSync(path.join(dir, rel), text);
      dirs.set(name, dir);
    });
    const r = spawnSync(BICEP!, ['build', '--pattern', 't*/main.bicep'], { cwd: work, encoding: 'utf8' });
    const lines = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim());
    const out = new Map<string, Compiled>();
    for (const [name, dir] of dirs) {
      const mine = lines.filter((l) => l.startsWith(`${dir}/`)).map((l) => l.slice(dir.length + 1));
      const json = path.join(dir, 'main.json');
      out.set(name, { arm: existsSync(json) ? JSON.parse(readFileSync(json, 'utf8')) : undefined, diagnostics: mine });
    }
    const unattributed = lines.filter((l) => ![...dirs.values()].some((d) => l.startsWith(`${d}/`)));
    if (unattributed.length) throw new Error(`bicep build printed output no tree owns:\n${unattributed.join('\n')}`);
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

let mainCache: Compiled | undefined;
/** infra/main.bicep as the compiler builds it (memoised per test file). */
export function compileMain(): Compiled {
  mainCache ??= compileTrees(new Map([['main', new Map()]])).get('main')!;
  return mainCache;
}

// ---------------------------------------------------------------------------------------------
// Reading ARM JSON (languageVersion 1.0 arrays and 2.0 symbolic objects, nested deployments)

export interface ArmTemplateRef {
  /** `main`, `main/storage`, ... (deployment resource symbol names). */
  path: string;
  template: any;
}

function listResources(template: any): [string, any][] {
  const r = template.resources ?? [];
  return Array.isArray(r) ? r.map((x: any, i: number) => [String(i), x]) : Object.entries(r);
}

/** The template and every nested deployment's inline template. */
export function armTemplates(arm: any, at = 'main'): ArmTemplateRef[] {
  const out: ArmTemplateRef[] = [{ path: at, template: arm }];
  for (const [symbol, r] of listResources(arm)) {
    if (r.type === 'Microsoft.Resources/deployments' && r.properties?.template) out.push(...armTemplates(r.properties.template, `${at}/${symbol}`));
  }
  return out;
}

/** Every resource declaration (deployed or `existing`) of every template, nested deployments excluded. */
export function armResources(arm: any): { template: string; symbol: string; resource: any }[] {
  return armTemplates(arm).flatMap((t) =>
    listResources(t.template)
      .filter(([, r]) => r.type !== 'Microsoft.Resources/deployments')
      .map(([symbol, resource]) => ({ template: t.path, symbol, resource })),
  );
}
