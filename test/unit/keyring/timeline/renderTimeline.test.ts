import { describe, expect, it } from 'vitest';
import { DAY, formatDotnetDate } from '../../../../shared/keyring/dotnetDate';
import { renderTimeline } from '../../../../shared/keyring/timeline/renderTimeline';
import { timeTicks } from '../../../../shared/keyring/timeline/timeTicks';
import { parseXml } from '../../../../shared/keyring/xml/parseXml';
import { attribute, elementChildren, textContent, type XmlElement } from '../../../../shared/keyring/xml/XmlNode';
import { keyEntry, revocation, ringOf } from '../policy/ringArbitraries';

const NOW = Date.UTC(2026, 10, 25, 12);
const SVG = 'http://www.w3.org/2000/svg';

const EXPIRED = '1f6c2a4e-0000-4000-8000-000000000001';
const ACTIVE = '7a9d3b10-0000-4000-8000-000000000002';
const FUTURE = 'c03e5d77-0000-4000-8000-000000000003';
const REVOKED = '0d41e5d7-0000-4000-8000-000000000004';

/** Expired, revoked, active (the default) and a successor created yesterday. */
function fourKeyRing() {
  return ringOf(
    [
      keyEntry(FUTURE, NOW - DAY, NOW + 80 * DAY, NOW + 170 * DAY),
      keyEntry(EXPIRED, NOW - 100 * DAY, NOW - 100 * DAY, NOW - 10 * DAY),
      keyEntry(ACTIVE, NOW - 24 * DAY, NOW - 10 * DAY, NOW + 80 * DAY),
      keyEntry(REVOKED, NOW - 40 * DAY, NOW - 40 * DAY, NOW + 50 * DAY),
    ],
    [revocation(REVOKED, NOW - 30 * DAY, 'leaked')],
  );
}

function parse(svg: string): XmlElement {
  const root = parseXml(svg).root;
  expect(root.localName).toBe('svg');
  expect(root.namespace).toBe(SVG);
  return root;
}

function descendants(element: XmlElement): XmlElement[] {
  return elementChildren(element).flatMap((e) => [e, ...descendants(e)]);
}

function keyRows(root: XmlElement): XmlElement[] {
  return descendants(root).filter((e) => e.localName === 'g' && (attribute(e, 'class') ?? '').split(' ').includes('key'));
}

function child(element: XmlElement, name: string, className?: string): XmlElement | undefined {
  return elementChildren(element).find((e) => e.localName === name && (className === undefined || attribute(e, 'class') === className));
}

function num(element: XmlElement | undefined, name: string): number {
  const value = element && attribute(element, name);
  if (value === undefined) throw new Error(`no ${name}`);
  return Number(value);
}

describe('renderTimeline', () => {
  it('draws one row per key, ordered by activation, with the 8-character label and the full id in <title>', () => {
    const root = parse(renderTimeline(fourKeyRing(), NOW, { ringName: 'production' }));
    const rows = keyRows(root);
    expect(rows.map((r) => attribute(r, 'data-key-id'))).toEqual([EXPIRED, REVOKED, ACTIVE, FUTURE]);
    for (const row of rows) {
      const id = attribute(row, 'data-key-id')!;
      expect(textContent(child(row, 'text', 'label')!)).toBe(id.slice(0, 8));
      expect(textContent(child(row, 'title')!)).toContain(`{${id}}`);
    }
    expect(rows.map((r) => attribute(r, 'data-state'))).toEqual(['expired', 'revoked', 'active', 'future']);
    // Rows go down the page in that order.
    const ys = rows.map((r) => num(child(r, 'rect', 'bar'), 'y'));
    expect([...ys].sort((a, b) => a - b)).toEqual(ys);
    expect(new Set(ys).size).toBe(4);
  });

  it('puts each bar from activation to expiration, the creation mark before it and the propagation window at creation', () => {
    const root = parse(renderTimeline(fourKeyRing(), NOW));
    const rows = keyRows(root);
    const bars = rows.map((r) => child(r, 'rect', 'bar')!);
    // The x scale is linear: recover it from two bars and check every other date against it.
    const [expired, , active] = bars;
    const scale = (num(active, 'x') - num(expired, 'x')) / (NOW - 10 * DAY - (NOW - 100 * DAY));
    const xOf = (t: number) => num(expired, 'x') + (t - (NOW - 100 * DAY)) * scale;
    const ring = fourKeyRing();
    for (const row of rows) {
      const key = ring.keys.find((k) => k.id === attribute(row, 'data-key-id'))!;
      const bar = child(row, 'rect', 'bar')!;
      expect(num(bar, 'x')).toBeCloseTo(xOf(key.activationDate), 0);
      expect(num(bar, 'x') + num(bar, 'width')).toBeCloseTo(xOf(key.expirationDate), 0);
      const propagation = child(row, 'rect', 'propagation')!;
      expect(num(propagation, 'x')).toBeCloseTo(xOf(key.creationDate), 0);
      expect(Math.max(3, num(propagation, 'width'))).toBeCloseTo(Math.max(3, 2 * DAY * scale), 0);
      const creation = child(row, 'path', 'creation')!;
      expect(Number(/^M([\d.]+) /.exec(attribute(creation, 'd')!)![1])).toBeCloseTo(xOf(key.creationDate), 0);
    }
  });

  it('strikes revoked keys (bar and label) and no others', () => {
    const root = parse(renderTimeline(fourKeyRing(), NOW));
    for (const row of keyRows(root)) {
      const revoked = attribute(row, 'data-key-id') === REVOKED;
      expect(attribute(row, 'data-revoked')).toBe(String(revoked));
      const strike = child(row, 'line', 'strike');
      expect(strike !== undefined).toBe(revoked);
      expect(attribute(child(row, 'text', 'label')!, 'text-decoration')).toBe(revoked ? 'line-through' : undefined);
      if (strike) {
        const bar = child(row, 'rect', 'bar')!;
        expect(num(strike, 'x1')).toBe(num(bar, 'x'));
        expect(num(strike, 'x2')).toBeCloseTo(num(bar, 'x') + num(bar, 'width'), 0);
      }
    }
  });

  it('marks the default key now and after the propagation window, and draws now', () => {
    // The successor activates within two days: the marks land on different keys.
    const ring = ringOf([keyEntry(ACTIVE, NOW - 80 * DAY, NOW - 80 * DAY, NOW + DAY), keyEntry(FUTURE, NOW - 5 * DAY, NOW + DAY, NOW + 91 * DAY)]);
    const root = parse(renderTimeline(ring, NOW));
    const rows = keyRows(root);
    const marked = (cls: string) => rows.filter((r) => child(r, cls === 'now' ? 'circle' : 'path', `mark-default-${cls}`)).map((r) => attribute(r, 'data-key-id'));
    expect(marked('now')).toEqual([ACTIVE]);
    expect(marked('later')).toEqual([FUTURE]);
    const now = descendants(root).find((e) => attribute(e, 'class') === 'now')!;
    expect(attribute(now, 'data-date')).toBe(formatDotnetDate(NOW));
    const after = descendants(root).find((e) => attribute(e, 'class') === 'after-propagation')!;
    expect(attribute(after, 'data-date')).toBe(formatDotnetDate(NOW + 2 * DAY));
    expect(num(child(after, 'line'), 'x1')).toBeGreaterThan(num(child(now, 'line'), 'x1'));
  });

  it('draws a mass revocation as one line at its date and strikes every key created before it', () => {
    const ring = ringOf(
      [keyEntry(EXPIRED, NOW - 20 * DAY, NOW - 20 * DAY, NOW + 70 * DAY), keyEntry(ACTIVE, NOW - 3 * DAY, NOW - 3 * DAY, NOW + 87 * DAY)],
      [revocation('*', NOW - 5 * DAY, 'incident')],
    );
    const root = parse(renderTimeline(ring, NOW));
    const mass = descendants(root).filter((e) => attribute(e, 'class') === 'mass-revocation');
    expect(mass).toHaveLength(1);
    expect(attribute(mass[0]!, 'data-date')).toBe(formatDotnetDate(NOW - 5 * DAY));
    expect(textContent(child(mass[0]!, 'title')!)).toContain('incident');
    expect(keyRows(root).map((r) => attribute(r, 'data-revoked'))).toEqual(['true', 'false']);
  });

  it('collapses 300 keys: long-expired ones into one band with their count, recent ones as rows', () => {
    const keys = Array.from({ length: 300 }, (_, i) => {
      const activation = NOW - (300 - i) * 7 * DAY + 14 * DAY;
      return keyEntry(`${(0x10000000 + i).toString(16)}-1111-4000-8000-${String(i).padStart(12, '0')}`, activation - 3 * DAY, activation, activation + 14 * DAY);
    });
    const svg = renderTimeline(ringOf(keys), NOW);
    const root = parse(svg);
    const rows = keyRows(root);
    const cutoff = NOW - 30 * DAY;
    const recent = keys.filter((k) => k.expirationDate >= cutoff);
    expect(rows.map((r) => attribute(r, 'data-key-id'))).toEqual(recent.map((k) => k.id));
    const band = descendants(root).filter((e) => attribute(e, 'class') === 'collapsed');
    expect(band).toHaveLength(1);
    expect(Number(attribute(band[0]!, 'data-count'))).toBe(300 - recent.length);
    expect(textContent(band[0]!)).toContain(`${300 - recent.length} keys expired before 2026-10-26`);
    expect(attribute(root, 'data-keys')).toBe('300');
    // Readable: the picture stays a screen high, not 300 rows.
    expect(num(root, 'height')).toBeLessThan(400);
  });

  it('never collapses the key apps still use, even when it expired long ago', () => {
    // The newest key expired, so apps fall back to the older one (ASP.NET Core's fallback rule).
    const ring = ringOf([keyEntry(EXPIRED, NOW - 300 * DAY, NOW - 300 * DAY, NOW - 200 * DAY), keyEntry(ACTIVE, NOW - 200 * DAY, NOW - 200 * DAY, NOW - 100 * DAY)]);
    const root = parse(renderTimeline(ring, NOW));
    expect(keyRows(root).map((r) => attribute(r, 'data-key-id'))).toEqual([EXPIRED]);
    expect(
      attribute(
        descendants(root).find((e) => attribute(e, 'class') === 'collapsed')!,
        'data-count',
      ),
    ).toBe('1');
  });

  it('names its hatch pattern after the ring, so several pictures can share one HTML page', () => {
    const ids = ['production', 'staging'].map((name) => {
      const root = parse(renderTimeline(fourKeyRing(), NOW, { ringName: name }));
      const pattern = descendants(root).find((e) => e.localName === 'pattern')!;
      const fills = new Set(
        descendants(root)
          .filter((e) => (attribute(e, 'fill') ?? '').startsWith('url('))
          .map((e) => attribute(e, 'fill')),
      );
      expect([...fills]).toEqual([`url(#${attribute(pattern, 'id')})`]);
      return attribute(pattern, 'id');
    });
    expect(new Set(ids).size).toBe(2);
  });

  it('draws an empty ring as a picture that says so', () => {
    const root = parse(renderTimeline(ringOf(), NOW, { ringName: 'new <ring>' }));
    expect(keyRows(root)).toHaveLength(0);
    expect(textContent(descendants(root).find((e) => attribute(e, 'class') === 'empty')!)).toBe('the key ring holds no keys');
    expect(textContent(elementChildren(root).find((e) => e.localName === 'title')!)).toContain('new <ring>');
  });
});

describe('timeTicks', () => {
  it.each([
    [10 * DAY, 12, /^\d+ [A-Z][a-z]{2}$/],
    [180 * DAY, 10, /^([A-Z][a-z]{2} )?\d{4}$/],
    [6 * 365 * DAY, 8, /^\d{4}$/],
  ])('fits %d ms into at most %d calendar-aligned ticks', (span, max, label) => {
    const from = Date.UTC(2026, 3, 17, 5);
    const ticks = timeTicks(from, from + span, max);
    expect(ticks.length).toBeGreaterThan(1);
    expect(ticks.length).toBeLessThanOrEqual(max + 1);
    for (const t of ticks) {
      expect(t.at).toBeGreaterThanOrEqual(from);
      expect(t.at).toBeLessThanOrEqual(from + span);
      expect(new Date(t.at).getUTCHours()).toBe(0);
      expect(t.label).toMatch(label);
    }
    expect(ticks.map((t) => t.at)).toEqual([...ticks.map((t) => t.at)].sort((a, b) => a - b));
  });
});
