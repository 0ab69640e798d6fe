import { beforeAll, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { aspnet, ensureBuilt, interopDescribe, iso, newRing, ok, ringkeeper, tempDir, DAY, type AppResult, type CliResult, type Ring } from './harness';

/*
 * "readable-refused": ASP.NET Core reads the ring, ringkeeper refuses it (blob untouched) with a
 * message (`why`) saying ASP.NET Core can read it and why ringkeeper will not write it.
 *
 * One table, run through both readers. "refuse": ASP.NET Core's key manager cannot read the ring
 * (the blob repository or XmlKeyManager throws) and ringkeeper must refuse it too (status/rotate
 * exit 1, blob untouched). "accept": ASP.NET Core reads it, so ringkeeper must read and rotate it,
 * and ASP.NET Core must still read what ringkeeper wrote, agreeing on the default key.
 */
type Expect = 'refuse' | 'accept' | 'readable-refused';
interface Case {
  name: string;
  expect: Expect;
  make: (base: Base) => string | Buffer | null;
  why?: RegExp;
}
interface Base {
  xml: string;
  a: string;
  b: string;
}

const BOM = '\uFEFF';
const DECL = '<?xml version="1.0" encoding="utf-8"?>';
const body = (x: string) => x.replace(BOM, '').replace(DECL, '');
const keyElement = (xml: string, id: string) => {
  const start = xml.indexOf(`<key id="${id}"`);
  return xml.slice(start, xml.indexOf('</key>', start) + '</key>'.length);
};
const append = (xml: string, element: string) => xml.replace('</repository>', `${element}</repository>`);
const revocation = (inner: string) => `<revocation version="1">${inner}</revocation>`;
const shiftDates = (xml: string, f: (d: string, frac: string) => string) => xml.replace(/(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z/g, (_m, d: string, frac: string | undefined) => f(d, frac ?? ''));

const CASES: Case[] = [
  // ---- must be refused by both
  { name: 'truncated XML', expect: 'refuse', make: ({ xml }) => xml.slice(0, Math.floor(xml.length / 2)) },
  { name: 'not XML at all', expect: 'refuse', make: () => 'this is not a key ring' },
  { name: 'XML declaration without a root element', expect: 'refuse', make: () => DECL },
  { name: 'DTD in the document (prohibited)', expect: 'refuse', make: ({ xml }) => xml.replace(DECL, `${DECL}<!DOCTYPE repository [<!ENTITY e "x">]>`) },
  { name: 'duplicate key id', expect: 'refuse', make: ({ xml, a }) => append(xml, keyElement(xml, a)) },
  { name: 'duplicate key id differing only in letter case', expect: 'refuse', make: ({ xml, a }) => append(xml, keyElement(xml, a).replace(a, a.toUpperCase())) },
  {
    name: 'revocation with an invalid key id',
    expect: 'refuse',
    make: ({ xml }) => append(xml, revocation('<revocationDate>2020-01-01T00:00:00Z</revocationDate><key id="{invalid}" /><reason>bad</reason>')),
  },
  // XmlKeyManager parses revocationDate only for mass revocations (id="*").
  { name: 'mass revocation without a date', expect: 'refuse', make: ({ xml }) => append(xml, revocation('<key id="*" /><reason>no date</reason>')) },
  {
    name: 'mass revocation with an unparsable date',
    expect: 'refuse',
    make: ({ xml }) => append(xml, revocation('<revocationDate>yesterday</revocationDate><key id="*" /><reason>bad date</reason>')),
  },
  // #11 item 8: declarations System.Xml refuses, a BOM-only blob.
  { name: 'encoding="utf-16" without a UTF-16 BOM', expect: 'refuse', make: ({ xml }) => xml.replace('encoding="utf-8"', 'encoding="utf-16"') },
  { name: 'encoding="utf-32" without a UTF-32 BOM', expect: 'refuse', make: ({ xml }) => xml.replace('encoding="utf-8"', 'encoding="utf-32"') },
  { name: 'an encoding name .NET does not know', expect: 'refuse', make: ({ xml }) => xml.replace('encoding="utf-8"', 'encoding="x-ringkeeper"') },
  { name: 'XML version 1.1', expect: 'refuse', make: ({ xml }) => xml.replace('version="1.0"', 'version="1.1"') },
  { name: 'a blob holding only a UTF-8 BOM', expect: 'refuse', make: () => BOM },
  { name: 'revocation without a key element', expect: 'refuse', make: ({ xml }) => append(xml, revocation('<revocationDate>2020-01-01T00:00:00Z</revocationDate><reason>whom?</reason>')) },
  // ---- accepted by ASP.NET Core, so never refused by ringkeeper
  { name: 'as ASP.NET Core wrote it (BOM, declaration, no formatting)', expect: 'accept', make: ({ xml }) => xml },
  { name: 'no BOM', expect: 'accept', make: ({ xml }) => xml.replace(BOM, '') },
  { name: 'no XML declaration', expect: 'accept', make: ({ xml }) => body(xml) },
  { name: 'zero-length blob', expect: 'accept', make: () => '' },
  { name: 'missing blob', expect: 'accept', make: () => null },
  { name: 'empty <repository />', expect: 'accept', make: () => `${DECL}<repository />` },
  {
    name: 'indented, with comments and CRLF',
    expect: 'accept',
    make: ({ xml }) =>
      xml
        .replace('<repository>', '<repository>\r\n  <!-- keys -->\r\n  ')
        .replace(/<\/key>/g, '</key>\r\n  ')
        .replace('</repository>', '\r\n</repository>\r\n'),
  },
  { name: 'root element not named repository', expect: 'accept', make: ({ xml }) => xml.replace('<repository>', '<keyring>').replace('</repository>', '</keyring>') },
  { name: 'unknown top-level elements', expect: 'accept', make: ({ xml }) => append(xml, '<x:cache xmlns:x="urn:example" ttl="5"><x:entry /></x:cache><note>hi</note>') },
  { name: 'unknown child element inside a key', expect: 'accept', make: ({ xml, a }) => xml.replace(keyElement(xml, a), keyElement(xml, a).replace('<descriptor', '<audit by="ops" /><descriptor')) },
  { name: 'dates with a non-UTC offset', expect: 'accept', make: ({ xml }) => shiftDates(xml, (d, frac) => new Date(Date.parse(`${d}Z`) - 8 * 3600_000).toISOString().slice(0, 19) + frac + '-08:00') },
  { name: 'whole-second dates', expect: 'accept', make: ({ xml }) => shiftDates(xml, (d) => `${d}Z`) },
  {
    name: 'older deserializerType version (2.0.0.0)',
    expect: 'accept',
    make: ({ xml }) => xml.replace(/Microsoft\.AspNetCore\.DataProtection, Version=[\d.]+/g, 'Microsoft.AspNetCore.DataProtection, Version=2.0.0.0'),
  },
  { name: 'key id in upper case', expect: 'accept', make: ({ xml, a }) => xml.replace(`id="${a}"`, `id="${a.toUpperCase()}"`) },
  {
    name: 'revocation of a key that is not in the ring',
    expect: 'accept',
    make: ({ xml }) => append(xml, revocation('<revocationDate>2020-01-01T00:00:00Z</revocationDate><key id="00000000-0000-0000-0000-000000000001" /><reason>gone</reason>')),
  },
  // ...so a single-key revocation with no usable date still revokes its key.
  { name: 'single-key revocation without a date', expect: 'accept', make: ({ xml, a }) => append(xml, revocation(`<key id="${a}" /><reason>no date</reason>`)) },
  {
    name: 'single-key revocation with an unparsable date',
    expect: 'accept',
    make: ({ xml, a }) => append(xml, revocation(`<revocationDate>yesterday</revocationDate><key id="${a}" /><reason>bad date</reason>`)),
  },
  {
    name: 'mass revocation older than every key',
    expect: 'accept',
    make: ({ xml }) =>
      append(xml, revocation('<revocationDate>2001-01-01T00:00:00Z</revocationDate><!-- All keys created before the revocation date are revoked. --><key id="*" /><reason>old</reason>')),
  },
  { name: '10,000 nested unknown elements', expect: 'accept', make: ({ xml }) => append(xml, `${'<n>'.repeat(10_000)}${'</n>'.repeat(10_000)}`) },
  { name: 'encoding="UTF-8" in upper case', expect: 'accept', make: ({ xml }) => xml.replace('encoding="utf-8"', 'encoding="UTF-8"') },
  // ---- read by ASP.NET Core, refused by ringkeeper with the reason
  {
    name: 'UTF-16 with a BOM',
    expect: 'readable-refused',
    why: /encoded in UTF-16 .*ASP.NET Core can read this ring, but ringkeeper writes rings only in UTF-8/,
    make: ({ xml }) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(xml.replace(BOM, '').replace('encoding="utf-8"', 'encoding="utf-16"'), 'utf16le')]),
  },
  {
    name: 'ISO-8859-1',
    expect: 'readable-refused',
    why: /declares encoding="iso-8859-1": ASP.NET Core can read this ring/,
    make: ({ xml }) => Buffer.from(xml.replace(BOM, '').replace('encoding="utf-8"', 'encoding="iso-8859-1"'), 'latin1'),
  },
  {
    name: 'a default namespace on <repository>',
    expect: 'readable-refused',
    why: /declares the default namespace "urn:x": .*apps see no key/,
    make: ({ xml }) => xml.replace('<repository>', '<repository xmlns="urn:x">'),
  },
  {
    name: 'a key ASP.NET Core skips (unparsable creationDate) next to a good one',
    expect: 'accept',
    make: ({ xml, b }) => xml.replace(keyElement(xml, b), keyElement(xml, b).replace(/<creationDate>[^<]*<\/creationDate>/, '<creationDate>not a date</creationDate>')),
  },
];

interface Outcome {
  ring: Ring;
  bytes: string | null;
  asp: AppResult;
  statusAll: CliResult;
  status?: any;
  rotate: CliResult;
  after: string | null;
  statusAfter?: any;
  aspAfter?: AppResult;
}

/** One config naming every given ring after its (unique) container. */
function combinedConfig(rings: Ring[]): string {
  const file = path.join(tempDir('s5all'), 'ringkeeper.json');
  writeFileSync(
    file,
    JSON.stringify({
      rings: rings.map((ring) => ({ ...JSON.parse(readFileSync(ring.configFile, 'utf8')).rings[0], name: ring.container })),
    }),
  );
  return file;
}
const statusOf = (r: CliResult, ring: Ring) => r.json.find((j) => j.ring === ring.container && Array.isArray(j.keys));

async function inPairs<T, R>(items: T[], f: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await f(items[i]);
  };
  await Promise.all([worker(), worker()]);
  return out;
}

interopDescribe('interop 5: hostile rings', () => {
  const outcomes = new Map<string, Outcome>();

  beforeAll(async () => {
    await ensureBuilt();
    // Base ring: written by ASP.NET Core itself (unencrypted), one active key and one future key.
    const baseRing = await newRing('s5base', { type: 'none' });
    const now = Date.now();
    const [, made, future] = (
      await aspnet([
        {
          name: 'base',
          blobSasUrl: baseRing.sasUrl,
          autoGenerateKeys: true,
          keyEncryption: 'none',
          steps: [{ op: 'status' }, { op: 'protect', text: 'x' }, { op: 'createKey', activationDate: iso(now + 5 * DAY), expirationDate: iso(now + 95 * DAY) }],
        },
      ])
    ).apps[0].results.map(ok);
    const base: Base = { xml: (await baseRing.download()).toString('utf8'), a: made.keyId!, b: future.keyId! };

    const rings = await Promise.all(
      CASES.map(async (c, i) => {
        const ring = await newRing(`s5c${i}`, { type: 'none' });
        const made = c.make(base);
        if (made !== null) await ring.upload(made);
        // Compared as base64 so non-UTF-8 rings compare byte for byte.
        return { ring, bytes: made === null ? null : Buffer.from(made).toString('base64') };
      }),
    );
    const readApp = (ring: Ring, name: string) => ({
      name,
      blobSasUrl: ring.sasUrl,
      autoGenerateKeys: false,
      keyEncryption: 'none' as const,
      steps: [{ op: 'status' as const }, { op: 'protect' as const, text: 'probe' }],
    });
    const asp = await aspnet(rings.map(({ ring }, i) => readApp(ring, CASES[i].name)));
    // One `status` over every case ring (one JSON line per ring); a refused ring has no status line.
    const statusAll = await ringkeeper(combinedConfig(rings.map((r) => r.ring)), 'status', '--json');
    // `rotate` per ring: its exit code is the per-ring verdict.
    const cli = await inPairs(rings, async ({ ring, bytes }) => {
      const rotate = await ringkeeper(ring.configFile, 'rotate', '--ring', ring.name, '--json');
      const after = (await ring.download().catch(() => null))?.toString('base64') ?? null;
      return { rotate, after, bytes };
    });
    const rotatedOk = rings.filter((_r, i) => cli[i].rotate.code === 0);
    const statusAfterAll = rotatedOk.length ? await ringkeeper(combinedConfig(rotatedOk.map((r) => r.ring)), 'status', '--json') : undefined;
    const aspAfter = rotatedOk.length ? await aspnet(rotatedOk.map(({ ring }) => readApp(ring, ring.container))) : { apps: [] };
    CASES.forEach((c, i) => {
      outcomes.set(c.name, {
        ring: rings[i].ring,
        asp: asp.apps[i],
        ...cli[i],
        statusAll,
        status: statusOf(statusAll, rings[i].ring),
        statusAfter: statusAfterAll && statusOf(statusAfterAll, rings[i].ring),
        aspAfter: aspAfter.apps.find((a) => a.name === rings[i].ring.container),
      });
    });
  });

  it.each(CASES.map((c) => [c.expect, c.name, c] as const))('%s: %s', (_e, _n, c) => {
    const o = outcomes.get(c.name)!;
    const aspStatus = o.asp.results[0];
    const aspSays = aspStatus?.ok ? 'accept' : 'refuse';
    expect(o.asp.error).toBeUndefined();
    expect(aspSays, `ASP.NET Core: ${aspStatus?.error?.type}: ${aspStatus?.error?.message}`).toBe(c.expect === 'refuse' ? 'refuse' : 'accept');

    if (c.expect === 'refuse' || c.expect === 'readable-refused') {
      expect(o.status, `ringkeeper status should refuse: ${JSON.stringify(o.status)}`).toBeUndefined();
      expect(o.statusAll.code, 'status over rings with a refused one fails').toBe(1);
      expect(o.rotate.code, `ringkeeper rotate should refuse; stdout: ${o.rotate.stdout}`).toBe(1);
      expect(o.rotate.stderr.trim().length, 'refusal names the problem on stderr').toBeGreaterThan(0);
      expect(o.after, 'a refused ring is left exactly as it was').toBe(o.bytes);
      if (c.why) expect(o.rotate.stderr).toMatch(c.why);
      return;
    }
    const why = o.statusAll.stderr
      .split('\n')
      .filter((l) => l.includes(o.ring.container))
      .join('\n');
    expect(o.status, `ringkeeper status refused a ring ASP.NET Core accepts: ${why}`).toBeDefined();
    expect(o.rotate.code, `ringkeeper rotate refused a ring ASP.NET Core accepts: ${o.rotate.stderr}`).toBe(0);
    // What ringkeeper wrote is still readable by ASP.NET Core, which protects with ringkeeper's default key.
    const after = o.aspAfter!;
    const [readBack, probe] = after.results;
    expect(readBack.ok, `ASP.NET Core cannot read the ring after ringkeeper rotated it: ${readBack.error?.message}`).toBe(true);
    const rkDefault = o.statusAfter?.defaultKey;
    expect(rkDefault).toBeTruthy();
    expect(readBack.defaultKey).toBe(rkDefault);
    expect(ok(probe).keyId).toBe(rkDefault);
  });
});
