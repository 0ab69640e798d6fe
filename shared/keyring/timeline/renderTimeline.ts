import { DAY, formatDotnetDate } from '../dotnetDate';
import { mostRecentMassRevocation, REVOKE_ALL, type KeyRing } from '../KeyRing';
import { compareKeyIds, KEY_PROPAGATION_WINDOW, resolveDefaultKey, type ResolvableKey } from '../policy/DefaultKeyResolver';
import { resolvableKeys } from '../policy/RotationPolicy';
import { escapeAttribute, escapeText } from '../xml/escapeXml';
import { timeTicks } from './timeTicks';

export interface TimelineOptions {
  /** Shown in the heading. */
  ringName?: string;
  /** Keys that expired longer ago than this collapse into one band (default 30 days). */
  historyWindowMs?: number;
  /** Drawing width in px (default 1000). */
  width?: number;
}

/** How a key stands at the instant drawn; `revoked` wins over the dates. */
export type TimelineKeyState = 'revoked' | 'expired' | 'active' | 'future';

const ROW = 20;
const BAR = 12;
const LABEL_WIDTH = 92;
/** Two marker columns on the right: the default key now and after the propagation window. */
const NOTE_WIDTH = 150;
const TOP = 84;
const MIN_WIDTH = 640;

/**
 * The key ring as a picture (pure: ring + instant -> SVG text). One row per key, ordered by
 * activation: a bar from activation to expiration, a tick at creation, the propagation window
 * shaded, revoked keys struck through, mass revocations and "now" as vertical lines, and the keys
 * apps use now and once everything written so far has propagated marked in a column on the right.
 * Rows carry `data-` attributes (id, state) so tests and the status page can read them back.
 */
export function renderTimeline(ring: KeyRing, now: number, options: TimelineOptions = {}): string {
  const width = Math.max(MIN_WIDTH, Math.round(options.width ?? 1000));
  const { keys, shown, collapsed, cutoff, defaultNow, defaultLater } = timelineRows(ring, now, options);
  const massRevocation = mostRecentMassRevocation(ring);

  const instants = [now - 7 * DAY, now + KEY_PROPAGATION_WINDOW + 7 * DAY];
  for (const k of shown) instants.push(k.creationDate, k.expirationDate);
  if (massRevocation !== undefined && massRevocation >= cutoff) instants.push(massRevocation);
  const from = Math.min(...instants);
  const to = Math.max(...instants);
  const x0 = LABEL_WIDTH + 8;
  const x1 = width - NOTE_WIDTH - 8;
  const x = (t: number) => round(x0 + ((t - from) / (to - from)) * (x1 - x0));

  const bandRows = collapsed.length > 0 ? 1 : 0;
  const rowsTop = TOP;
  const rowsBottom = rowsTop + (bandRows + Math.max(shown.length, 1)) * ROW;
  const legendTop = rowsBottom + 52;
  const height = legendTop + 28;

  // Several pictures share one HTML page (the status page): the pattern id must be theirs alone.
  const patternId = `rk-propagation-${(options.ringName ?? 'ring').replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="ringkeeper-timeline" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12" data-now="${formatDotnetDate(now)}" data-keys="${keys.length}" data-shown="${shown.length}" data-collapsed="${collapsed.length}">`,
  );
  out.push(`<title>${escapeText(`Key ring ${options.ringName ?? ''} at ${formatDotnetDate(now)}`.replace(/ {2}/, ' '))}</title>`);
  out.push(
    `<defs><pattern id="${patternId}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff3c4"/><line x1="0" y1="0" x2="0" y2="6" stroke="#e0a800" stroke-width="2"/></pattern></defs>`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="8" y="20" font-size="15" font-weight="600" fill="#1b1f24">${escapeText(heading(options.ringName, keys.length, now))}</text>`);

  // Axis: grid lines and dates above the rows.
  out.push('<g class="axis">');
  for (const tick of timeTicks(from, to, Math.max(2, Math.floor((x1 - x0) / 90)))) {
    const tx = x(tick.at);
    out.push(`<line x1="${tx}" y1="${rowsTop - 14}" x2="${tx}" y2="${rowsBottom}" stroke="#e6e8eb"/>`);
    out.push(`<text x="${tx}" y="${rowsTop - 18}" text-anchor="middle" fill="#57606a" font-size="11">${escapeText(tick.label)}</text>`);
  }
  out.push('</g>');
  out.push('<g class="columns" fill="#57606a" font-size="11" text-anchor="middle">');
  out.push(`<text x="${width - NOTE_WIDTH + 36}" y="${rowsTop - 18}">default now</text>`);
  out.push(`<text x="${width - NOTE_WIDTH + 110}" y="${rowsTop - 18}">in ${KEY_PROPAGATION_WINDOW / DAY} days</text>`);
  out.push('</g>');

  let row = 0;
  if (collapsed.length > 0) {
    const y = rowsTop + row * ROW;
    const oldest = Math.min(...collapsed.map((k) => k.activationDate));
    const newest = Math.max(...collapsed.map((k) => k.expirationDate));
    const revokedCount = collapsed.filter((k) => k.revoked).length;
    const summary = `${collapsed.length} key${collapsed.length === 1 ? '' : 's'} expired before ${day(cutoff)}`;
    out.push(`<g class="collapsed" data-count="${collapsed.length}">`);
    out.push(`<title>${escapeText(`${summary} (active ${day(oldest)} to ${day(newest)}; ${revokedCount} revoked): not drawn one by one`)}</title>`);
    out.push(`<rect x="0" y="${y}" width="${width}" height="${ROW}" fill="#f3f4f6"/>`);
    out.push(`<text x="8" y="${y + 14}" fill="#57606a" font-style="italic">${escapeText(summary)}${revokedCount ? escapeText(` (${revokedCount} revoked)`) : ''}</text>`);
    out.push('</g>');
    row++;
  }

  if (shown.length === 0) {
    out.push(`<text class="empty" x="${x0}" y="${rowsTop + row * ROW + 14}" fill="#57606a">${keys.length === 0 ? 'the key ring holds no keys' : 'no key to draw'}</text>`);
  }
  for (const key of shown) {
    out.push(keyRow(key, rowsTop + row * ROW, now, x, width, patternId, { isDefaultNow: key.id === defaultNow, isDefaultLater: key.id === defaultLater }));
    row++;
  }

  // Vertical markers on top of the bars.
  if (massRevocation !== undefined && massRevocation >= from) {
    const mx = x(massRevocation);
    out.push(`<g class="mass-revocation" data-date="${formatDotnetDate(massRevocation)}">`);
    out.push(`<title>${escapeText(`All keys created before ${formatDotnetDate(massRevocation)} are revoked${massReason(ring, massRevocation)}`)}</title>`);
    out.push(`<line x1="${mx}" y1="${rowsTop - 6}" x2="${mx}" y2="${rowsBottom + 4}" stroke="#b42318" stroke-width="2" stroke-dasharray="6 3"/>`);
    out.push(`<text x="${mx}" y="${rowsBottom + 30}" text-anchor="middle" fill="#b42318" font-size="11">keys created before this are revoked</text>`);
    out.push('</g>');
  }
  const later = now + KEY_PROPAGATION_WINDOW;
  out.push(`<g class="now" data-date="${formatDotnetDate(now)}">`);
  out.push(`<rect x="${x(now)}" y="${rowsTop - 6}" width="${Math.max(1, x(later) - x(now))}" height="${rowsBottom - rowsTop + 10}" fill="#0969da" opacity="0.06"/>`);
  out.push(`<line x1="${x(now)}" y1="${rowsTop - 10}" x2="${x(now)}" y2="${rowsBottom + 4}" stroke="#0969da" stroke-width="2"/>`);
  out.push(`<text x="${x(now)}" y="${rowsTop - 34}" text-anchor="middle" fill="#0969da" font-weight="600">now</text>`);
  out.push('</g>');
  out.push(`<g class="after-propagation" data-date="${formatDotnetDate(later)}">`);
  out.push(`<line x1="${x(later)}" y1="${rowsTop - 10}" x2="${x(later)}" y2="${rowsBottom + 4}" stroke="#0969da" stroke-width="1" stroke-dasharray="2 3"/>`);
  out.push(`<text x="${x(later)}" y="${rowsBottom + 16}" text-anchor="start" dx="-2" fill="#0969da" font-size="11">propagated by then: +${KEY_PROPAGATION_WINDOW / DAY} d</text>`);
  out.push('</g>');

  out.push(legend(legendTop, width, patternId));
  out.push('</svg>');
  return out.join('\n');
}

export interface TimelineRows {
  /** Every key, ordered by activation (then creation, then id): the order of the rows. */
  keys: ResolvableKey[];
  /** Drawn one per row. */
  shown: ResolvableKey[];
  /** Expired before `cutoff` and used by no app: one band with their count. */
  collapsed: ResolvableKey[];
  cutoff: number;
  defaultNow?: string;
  defaultLater?: string;
}

/** Which keys the picture draws and in what order (the status page's key table lists the same). */
export function timelineRows(ring: KeyRing, now: number, options: Pick<TimelineOptions, 'historyWindowMs'> = {}): TimelineRows {
  const keys = resolvableKeys(ring).sort((a, b) => a.activationDate - b.activationDate || a.creationDate - b.creationDate || compareKeyIds(a.id, b.id));
  const defaultNow = chosenKey(keys, now);
  const defaultLater = chosenKey(keys, now + KEY_PROPAGATION_WINDOW);
  const cutoff = now - (options.historyWindowMs ?? 30 * DAY);
  // Never hide a key apps still pick (an expired fallback is exactly what an operator must see).
  const collapsed = keys.filter((k) => k.expirationDate < cutoff && k.id !== defaultNow && k.id !== defaultLater);
  return { keys, shown: keys.filter((k) => !collapsed.includes(k)), collapsed, cutoff, defaultNow, defaultLater };
}

/** The key apps with key generation disabled use at `at`: the resolver's default, else its fallback (as status reports it). */
function chosenKey(keys: readonly ResolvableKey[], at: number): string | undefined {
  const resolution = resolveDefaultKey(keys, at);
  return (resolution.defaultKey ?? resolution.fallbackKey)?.id;
}

export function keyState(key: Pick<ResolvableKey, 'activationDate' | 'expirationDate' | 'revoked'>, now: number): TimelineKeyState {
  if (key.revoked) return 'revoked';
  if (key.expirationDate <= now) return 'expired';
  return key.activationDate <= now ? 'active' : 'future';
}

const FILL: Record<TimelineKeyState, string> = { revoked: '#f4b4ae', expired: '#c4c9d0', active: '#2da44e', future: '#54aeff' };

function keyRow(key: ResolvableKey, y: number, now: number, x: (t: number) => number, width: number, patternId: string, marks: { isDefaultNow: boolean; isDefaultLater: boolean }): string {
  const state = keyState(key, now);
  const mid = y + ROW / 2;
  const barTop = mid - BAR / 2;
  const ax = x(key.activationDate);
  const ex = Math.max(ax + 2, x(key.expirationDate));
  const cx = x(key.creationDate);
  const px = x(key.creationDate + KEY_PROPAGATION_WINDOW);
  const parts: string[] = [];
  const attrs = [
    `class="key key-${state}${marks.isDefaultNow ? ' default-now' : ''}${marks.isDefaultLater ? ' default-later' : ''}"`,
    `data-key-id="${escapeAttribute(key.id)}"`,
    `data-state="${state}"`,
    `data-revoked="${key.revoked}"`,
  ];
  parts.push(`<g ${attrs.join(' ')}>`);
  parts.push(
    `<title>${escapeText(
      `{${key.id}} ${state}${key.revoked ? ' (revoked)' : ''}\ncreated ${formatDotnetDate(key.creationDate)}\nactivates ${formatDotnetDate(key.activationDate)}\nexpires ${formatDotnetDate(key.expirationDate)}` +
        (marks.isDefaultNow ? '\napps protect with this key now' : '') +
        (marks.isDefaultLater ? `\napps protect with this key at ${formatDotnetDate(now + KEY_PROPAGATION_WINDOW)}` : ''),
    )}</title>`,
  );
  if (marks.isDefaultNow) parts.push(`<rect x="0" y="${y}" width="${width}" height="${ROW}" fill="#dafbe1" opacity="0.6"/>`);
  parts.push(
    `<text class="label" x="8" y="${mid + 4}" font-family="ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace" fill="${key.revoked ? '#b42318' : '#1b1f24'}"${key.revoked ? ' text-decoration="line-through"' : ''}>${escapeText(key.id.slice(0, 8))}</text>`,
  );
  // Created but not yet active: a thin line from creation to activation.
  if (ax > cx) parts.push(`<line class="pending" x1="${cx}" y1="${mid}" x2="${ax}" y2="${mid}" stroke="#8c959f" stroke-width="1"/>`);
  parts.push(
    `<rect class="bar" x="${ax}" y="${barTop}" width="${round(ex - ax)}" height="${BAR}" rx="2" fill="${FILL[state]}"${marks.isDefaultNow || marks.isDefaultLater ? ' stroke="#1b1f24" stroke-width="1.5"' : ''}/>`,
  );
  // Over the bar: a key in use before its window ends was not yet known to every app.
  parts.push(
    `<rect class="propagation" x="${cx}" y="${barTop - 2}" width="${Math.max(3, px - cx)}" height="${BAR + 4}" fill="url(#${patternId})" opacity="0.75"><title>propagation window: ${escapeText(formatDotnetDate(key.creationDate))} to ${escapeText(formatDotnetDate(key.creationDate + KEY_PROPAGATION_WINDOW))}</title></rect>`,
  );
  parts.push(`<path class="creation" d="M${cx} ${barTop} l-3.5 -4 h7 z" fill="#1b1f24"/>`);
  if (key.revoked) parts.push(`<line class="strike" x1="${ax}" y1="${mid}" x2="${ex}" y2="${mid}" stroke="#b42318" stroke-width="2"/>`);
  if (marks.isDefaultNow) parts.push(`<circle class="mark-default-now" cx="${width - NOTE_WIDTH + 36}" cy="${mid}" r="5" fill="#1a7f37"/>`);
  if (marks.isDefaultLater) parts.push(`<path class="mark-default-later" d="M${width - NOTE_WIDTH + 110} ${mid - 6} l6 6 l-6 6 l-6 -6 z" fill="#0969da"/>`);
  parts.push('</g>');
  return parts.join('');
}

function legend(y: number, width: number, patternId: string): string {
  const items: Array<[string, string]> = [
    [`<rect width="14" height="10" y="-9" rx="2" fill="${FILL.active}"/>`, 'active'],
    [`<rect width="14" height="10" y="-9" rx="2" fill="${FILL.future}"/>`, 'not yet active'],
    [`<rect width="14" height="10" y="-9" rx="2" fill="${FILL.expired}"/>`, 'expired'],
    [`<rect width="14" height="10" y="-9" rx="2" fill="${FILL.revoked}"/><line x1="0" y1="-4" x2="14" y2="-4" stroke="#b42318" stroke-width="2"/>`, 'revoked'],
    [`<rect width="14" height="12" y="-10" fill="url(#${patternId})"/>`, 'propagating (2 d)'],
    ['<path d="M7 -2 l-4 -5 h8 z" fill="#1b1f24"/>', 'created'],
  ];
  const parts = [`<g class="legend" transform="translate(8 ${y})">`];
  let offset = 0;
  const step = Math.min(140, Math.floor((width - 16) / items.length));
  for (const [swatch, text] of items) {
    parts.push(`<g transform="translate(${offset} 0)">${swatch}<text x="20" fill="#57606a" font-size="11">${escapeText(text)}</text></g>`);
    offset += step;
  }
  parts.push('</g>');
  return parts.join('');
}

function heading(ringName: string | undefined, count: number, now: number): string {
  const name = ringName ? `Key ring ${ringName}` : 'Key ring';
  return `${name}: ${count} key${count === 1 ? '' : 's'}, at ${formatDotnetDate(now)}`;
}

function massReason(ring: KeyRing, date: number): string {
  const r = ring.revocations.find((v) => v.keyId === REVOKE_ALL && v.revocationDate === date);
  return r?.reason ? ` (${r.reason})` : '';
}

function day(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}
