import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { RequestPolicyFactory } from '@azure/storage-blob';
import { rotateRing } from '../shared/app/keyRingOperations';
import { openRings, type RingHandle } from '../shared/app/openRings';
import { parseConfig } from '../shared/config/parseConfig';
import { DAY } from '../shared/keyring/dotnetDate';
import { KeyRingDocument } from '../shared/keyring/KeyRingDocument';
import { encryptedSecretXml, keyXml, revocationXml } from '../shared/keyring/KeyXmlWriter';
import { DEFAULT_POLICY, planRotation } from '../shared/keyring/policy/RotationPolicy';
import { KEY_VAULT_DECRYPTOR_TYPE, XML_DECLARATION } from '../shared/keyring/XmlConstants';

export interface KeyRingBenchOptions {
  azurite: { connectionString: string };
  quick?: boolean;
  resultsFile?: string;
  log?: (line: string) => void;
}

interface Traffic {
  requests: number;
  bytesSent: number;
  bytesReceived: number;
  byMethod: Record<string, number>;
}

interface Measure {
  medianMs: number;
  p90Ms: number;
  runs: number;
  /** Per run, from an SDK pipeline policy next to the transport. */
  storage: Traffic;
}

interface SizeResult {
  keys: number;
  blobBytes: number;
  noOpRotation: Measure;
  keyCreatingRotation: Measure;
  parsePlanSerialize: { medianMs: number; p90Ms: number; runs: number };
}

const NOW = Date.UTC(2030, 0, 1);

/**
 * A ring of n keys in the Key Vault format, one activated per day (so 10,000 keys stay within .NET's date range), some
 * revoked. `kid` is the configured protector's, so the KEK guard lets a forced rotation write to it as in production.
 */
function syntheticRing(n: number, kid: string): Buffer {
  const parts: string[] = [XML_DECLARATION, '<repository>'];
  for (let i = 0; i < n; i++) {
    const activation = NOW - (n - 1 - i) * DAY;
    const encrypted =
      `<encryptedKey><!-- This key is encrypted with Azure Key Vault. --><kid>${kid}</kid><key>${randomBytes(256).toString('base64')}</key>` +
      `<iv>${randomBytes(16).toString('base64')}</iv><value>${randomBytes(304).toString('base64')}</value></encryptedKey>`;
    const id = `${i.toString(16).padStart(8, '0')}-0000-4000-8000-${randomBytes(6).toString('hex')}`;
    parts.push(keyXml(id, { creationDate: activation - 14 * DAY, activationDate: activation, expirationDate: activation + 90 * DAY }, encryptedSecretXml(KEY_VAULT_DECRYPTOR_TYPE, encrypted)));
    if (i % 50 === 49 && i < n - 1) parts.push(revocationXml(id, activation + DAY, 'bench'));
  }
  parts.push('</repository>');
  return Buffer.from(parts.join(''), 'utf8');
}

function trafficCounter(): { policy: RequestPolicyFactory; traffic: Traffic; reset(): void } {
  const traffic: Traffic = { requests: 0, bytesSent: 0, bytesReceived: 0, byMethod: {} };
  return {
    traffic,
    reset() {
      Object.assign(traffic, { requests: 0, bytesSent: 0, bytesReceived: 0, byMethod: {} });
    },
    policy: {
      create: (next) => ({
        async sendRequest(request) {
          traffic.requests++;
          traffic.byMethod[request.method] = (traffic.byMethod[request.method] ?? 0) + 1;
          const body: unknown = request.body;
          if (typeof body === 'string' || Buffer.isBuffer(body)) traffic.bytesSent += Buffer.byteLength(body);
          const response = await next.sendRequest(request);
          traffic.bytesReceived += Number(response.headers.get('content-length') ?? 0);
          return response;
        },
      }),
    },
  };
}

function stats(samples: number[]): { medianMs: number; p90Ms: number; runs: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { medianMs: round(at(0.5)), p90Ms: round(at(0.9)), runs: samples.length };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

async function measure(runs: number, handle: () => RingHandle, counter: ReturnType<typeof trafficCounter>, run: (h: RingHandle) => Promise<unknown>, reset?: () => Promise<void>): Promise<Measure> {
  const samples: number[] = [];
  let traffic: Traffic | undefined;
  for (let i = 0; i < runs; i++) {
    if (reset) await reset();
    const h = handle();
    counter.reset();
    const start = performance.now();
    await run(h);
    samples.push(performance.now() - start);
    traffic ??= { ...counter.traffic, byMethod: { ...counter.traffic.byMethod } };
  }
  return { ...stats(samples), storage: traffic! };
}

export async function runKeyRingBench(opts: KeyRingBenchOptions): Promise<{ name: 'keyring'; results: unknown; markdown: string }> {
  const log = opts.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const quick = opts.quick ?? false;
  const dir = mkdtempSync(path.join(tmpdir(), 'ringkeeper-bench-'));
  const keyFile = path.join(dir, 'kek.pem');
  writeFileSync(keyFile, generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const sizes = quick ? [10, 100, 1000] : [10, 100, 1000, 10_000];
  const runs = quick ? 3 : 9;
  const results: SizeResult[] = [];

  for (const keys of sizes) {
    const container = `bench-keyring-${keys}`;
    const counter = trafficCounter();
    const config = parseConfig(
      { rings: [{ name: 'bench', storage: { connectionString: opts.azurite.connectionString }, container, blob: 'keys.xml', protector: { type: 'rsa', keyFile } }] },
      'bench',
      dir,
    );
    const handle = () => openRings(config, { storagePolicies: [counter.policy] })[0]!;
    const content = syntheticRing(keys, openRings(config)[0]!.protector().kek);
    const upload = async () => {
      const h = openRings(config)[0]!;
      const stored = await h.repository.read();
      await h.repository.write(content, stored.etag);
    };
    await upload();

    const noOp = await measure(runs, handle, counter, async (h) => {
      const r = await rotateRing(h, {}, { now: () => NOW });
      if (r.action !== 'none') throw new Error(`bench ring of ${keys} keys was expected to need no change, got ${r.action}`);
    });
    const creating = await measure(runs, handle, counter, (h) => rotateRing(h, { force: true }, { now: () => NOW }), upload);

    const samples: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      const doc = KeyRingDocument.parse(content);
      const plan = planRotation(doc.ring, NOW, DEFAULT_POLICY, { force: true });
      doc.append('<key />');
      doc.serialize();
      if (plan.changes.length !== 1) throw new Error('expected one planned key');
      samples.push(performance.now() - start);
    }
    const result: SizeResult = { keys, blobBytes: content.length, noOpRotation: noOp, keyCreatingRotation: creating, parsePlanSerialize: stats(samples) };
    results.push(result);
    log(
      `keyring ${keys} keys (${(content.length / 1024).toFixed(0)} KiB): no-op ${noOp.medianMs} ms / ${noOp.storage.requests} req, creating ${creating.medianMs} ms / ${creating.storage.requests} req, pure ${result.parsePlanSerialize.medianMs} ms`,
    );
  }

  const output = { generatedAt: new Date().toISOString(), quick, node: process.version, cpus: cpus().length, storage: 'Azurite (in-memory), loopback', runsPerMeasure: runs, results };
  const root = path.resolve(__dirname, '..', ...(path.basename(path.resolve(__dirname, '..')) === 'dist' ? ['..'] : []));
  const resultsFile = opts.resultsFile ?? path.join(root, 'bench', 'results', 'keyring.json');
  mkdirSync(path.dirname(resultsFile), { recursive: true });
  writeFileSync(resultsFile, `${JSON.stringify(output, null, 2)}\n`);
  return { name: 'keyring', results: output, markdown: keyRingMarkdown(results, runs) };
}

function keyRingMarkdown(results: SizeResult[], runs: number): string {
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  const lines = [
    `Median of ${runs} runs per cell (p90 in brackets); storage traffic is per run, counted by an SDK pipeline policy.`,
    '',
    '| keys | blob | no-op rotation | requests (bytes down) | key-creating rotation | requests (bytes up / down) | parse + plan + serialize |',
    '|---:|---:|---:|---|---:|---|---:|',
  ];
  for (const r of results) {
    const n = r.noOpRotation;
    const c = r.keyCreatingRotation;
    lines.push(
      `| ${r.keys} | ${kib(r.blobBytes)} | ${n.medianMs} ms (${n.p90Ms}) | ${n.storage.requests}: ${methods(n.storage)} (${kib(n.storage.bytesReceived)}) | ` +
        `${c.medianMs} ms (${c.p90Ms}) | ${c.storage.requests}: ${methods(c.storage)} (${kib(c.storage.bytesSent)} / ${kib(c.storage.bytesReceived)}) | ${r.parsePlanSerialize.medianMs} ms (${r.parsePlanSerialize.p90Ms}) |`,
    );
  }
  lines.push('', 'Key Vault requests: none in any run (the `rsa` protector wraps locally; a no-op run never builds a protector, as the Azurite tests prove with the Key Vault double).');
  return lines.join('\n');
}

function methods(t: Traffic): string {
  return Object.entries(t.byMethod)
    .map(([m, c]) => `${c} ${m}`)
    .join(' + ');
}
