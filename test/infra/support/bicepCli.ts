/**
 * The real Bicep CLI (the judge of every template): found at $BICEP_CLI, .tools/bicep/bicep (from
 * infra/scripts/install-bicep.sh) or on PATH. Under CI=true a missing CLI is a test failure; on a
 * machine without it the compiler tests skip and say how to install it.
 */
import { spawn, spawnSync } from 'node:child_process';
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

/**
 * Runs the CLI without blocking the test worker (a build can take many seconds on a busy machine,
 * and a blocked worker cannot answer the test runner). Resolves with the exit status and output lines.
 */
function runBicep(args: string[], cwd?: string): Promise<{ status: number | null; lines: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(BICEP!, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (out += b.toString('utf8')));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, lines: out.split('\n').filter((l) => l.trim()) }));
  });
}

/** Copies infra/ into a scratch folder per tree (with some files replaced), runs `bicep <verb> --pattern`, and attributes each line to its tree. */
async function inTrees<T>(verb: 'build' | 'lint', pattern: string, trees: Map<string, Map<string, string>>, read: (dir: string, lines: string[], status: number | null) => T): Promise<Map<string, T>> {
  const work = mkdtempSync(path.join(tmpdir(), 'ringkeeper-bicep-'));
  try {
    const dirs = new Map<string, string>();
    [...trees.keys()].forEach((name, i) => {
      const dir = path.join(work, `t${i}`);
      cpSync(INFRA, dir, { recursive: true });
      for (const [rel, text] of trees.get(name)!) writeFileSync(path.join(dir, rel), text);
      dirs.set(name, dir);
    });
    const r = await runBicep([verb, '--pattern', pattern], work);
    const unattributed = r.lines.filter((l) => ![...dirs.values()].some((d) => l.startsWith(`${d}/`)));
    if (unattributed.length) throw new Error(`bicep ${verb} printed output no tree owns:\n${unattributed.join('\n')}`);
    const out = new Map<string, T>();
    for (const [name, dir] of dirs) {
      const mine = r.lines.filter((l) => l.startsWith(`${dir}/`)).map((l) => l.slice(dir.length + 1));
      out.set(name, read(dir, mine, r.status));
    }
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** `bicep lint` on every template of infra/ in one CLI run: the diagnostics (paths relative to infra/) and exit status. */
export async function lintAll(): Promise<{ status: number | null; diagnostics: string[] }> {
  const r = await inTrees('lint', 't*/**/*.bicep', new Map([['infra', new Map()]]), (_dir, lines, status) => ({ status, diagnostics: lines }));
  return r.get('infra')!;
}

/**
 * Builds main.bicep of several copies of infra/ in one CLI run (`bicep build --pattern`), each copy
 * with some files replaced (path relative to infra/ -> content). Returns each tree's ARM JSON and
 * diagnostics, keyed like the input.
 */
export function compileTrees(trees: Map<string, Map<string, string>>): Promise<Map<string, Compiled>> {
  return inTrees('build', 't*/main.bicep', trees, (dir, diagnostics) => {
    const json = path.join(dir, 'main.json');
    return { arm: existsSync(json) ? JSON.parse(readFileSync(json, 'utf8')) : undefined, diagnostics };
  });
}

let mainCache: Promise<Compiled> | undefined;
/** infra/main.bicep as the compiler builds it (memoised per test file). */
export function compileMain(): Promise<Compiled> {
  mainCache ??= compileTrees(new Map([['main', new Map()]])).then((m) => m.get('main')!);
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
