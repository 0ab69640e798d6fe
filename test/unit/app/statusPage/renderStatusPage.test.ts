import { describe, expect, it } from 'vitest';
import { ringHealth } from '../../../../shared/app/health/assessHealth';
import type { OperatorsView } from '../../../../shared/app/health/readOperatorsView';
import { renderStatusPage } from '../../../../shared/app/statusPage/renderStatusPage';
import { DAY } from '../../../../shared/keyring/dotnetDate';
import type { KeyRing } from '../../../../shared/keyring/KeyRing';
import { ringStatus, type RingStatus } from '../../../../shared/keyring/keyRingStatus';
import { DEFAULT_POLICY } from '../../../../shared/keyring/policy/RotationPolicy';
import { keyEntry, ringOf } from '../../keyring/policy/ringArbitraries';

const NOW = Date.UTC(2026, 10, 25, 12);

function viewOf(name: string, ring: KeyRing): OperatorsView {
  const status: RingStatus = { ...ringStatus(ring, NOW, DEFAULT_POLICY, 'rsa'), ring: name, location: 'https://acct.blob.core.windows.net/dp/keys.xml', etag: '"0x1"', unknownElements: 0 };
  const health = ringHealth(status);
  return { at: NOW, rings: [{ name, status, ring, health }], report: { health: health.health, at: new Date(NOW).toISOString(), rings: [health], channels: [] } };
}

const rowsOf = (html: string, cls: string) => [...html.matchAll(new RegExp(`<tr class="${cls}[^"]*" data-key-id="([^"]+)"`, 'g'))].map((m) => m[1]);

describe('renderStatusPage', () => {
  it('lists, for 300 keys, the rows the picture draws (same order) and counts the long-expired rest in one row', () => {
    const keys = Array.from({ length: 300 }, (_, i) => {
      const activation = NOW - (300 - i) * 7 * DAY + 14 * DAY;
      return keyEntry(`${(0x10000000 + i).toString(16)}-1111-4000-8000-${String(i).padStart(12, '0')}`, activation - 3 * DAY, activation, activation + 14 * DAY);
    });
    const html = renderStatusPage(viewOf('production', ringOf(keys)));
    const pictured = [...html.matchAll(/<g class="key [^"]*" data-key-id="([^"]+)"/g)].map((m) => m[1]);
    expect(pictured.length).toBeGreaterThan(0);
    expect(pictured.length).toBeLessThan(10);
    expect(rowsOf(html, 'key')).toEqual(pictured);
    expect(html).toContain(`${300 - pictured.length} key(s) expired before`);
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).not.toContain('<script');
  });

  it('escapes what comes from configuration and the ring', () => {
    const html = renderStatusPage(viewOf('<img src=x onerror=alert(1)>', ringOf([keyEntry('7a9d3b10-0000-4000-8000-000000000002', NOW - DAY * 10, NOW - DAY * 10, NOW + DAY * 80)])));
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('data-ring="&lt;img src=x onerror=alert(1)&gt;"');
  });

  it('says when nothing is configured', () => {
    const html = renderStatusPage({ at: NOW, rings: [], report: { health: 'ok', at: new Date(NOW).toISOString(), rings: [], channels: [] } });
    expect(html).toContain('No key ring is configured.');
    expect(html).toContain('No cache channel is configured.');
  });
});
