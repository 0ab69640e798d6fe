import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startAzurite } from '../shared/azure/azurite';
import { runCacheBench } from './cache';
import { runKeyRingBench } from './keyring';
import { runPayloadBench } from './payload';

const ROOT = path.resolve(__dirname, '..', '..');
const README = path.join(ROOT, 'bench', 'README.md');

/**
 * `npm run bench`: one Azurite (free ports, data in a temporary folder) for every benchmark, figures written as JSON
 * under bench/results/ and as tables between the markers in bench/README.md. `--quick` for a smoke run.
 */
async function main(argv: string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const only = argv.find((a) => !a.startsWith('--'));
  // On disk: Azurite's in-memory queue store stalls for tens of seconds after ~10,000 messages.
  const location = mkdtempSync(path.join(tmpdir(), 'ringkeeper-bench-azurite-'));
  const azurite = await startAzurite({ location });
  try {
    const sections: { name: string; markdown: string; custom?: boolean }[] = [];
    if (!only || only === 'keyring') sections.push(await runKeyRingBench({ azurite, quick }));
    if (!only || only === 'cache') sections.push(await runCacheBench({ azurite, quick }));
    if (!only || only === 'payload') sections.push(await runPayloadBench({ quick }));
    // Customised runs (CACHE_BENCH_* for development) print their figures but leave the README alone.
    if (!quick) for (const section of sections) if (!section.custom) replaceSection(section.name, section.markdown);
  } finally {
    await azurite.stop();
    rmSync(location, { recursive: true, force: true });
  }
}

function replaceSection(name: string, markdown: string): void {
  const begin = `<!-- bench:${name}:begin -->`;
  const end = `<!-- bench:${name}:end -->`;
  const readme = readFileSync(README, 'utf8');
  const from = readme.indexOf(begin);
  const to = readme.indexOf(end);
  if (from < 0 || to < from) throw new Error(`bench/README.md lacks the ${begin} … ${end} markers`);
  writeFileSync(README, `${readme.slice(0, from + begin.length)}\n${markdown}\n${readme.slice(to)}`);
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
