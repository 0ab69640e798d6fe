import type { CacheStatus, ChannelStatus } from '../../cache/readChannelStatus';
import { formatDotnetDate } from '../../keyring/dotnetDate';
import type { Health } from '../../keyring/keyRingStatus';
import { keyState, renderTimeline, timelineRows } from '../../keyring/timeline/renderTimeline';
import { escapeAttribute as attr, escapeText as text } from '../../keyring/xml/escapeXml';
import type { ComponentHealth } from '../health/assessHealth';
import type { OperatorsView, RingView } from '../health/readOperatorsView';

/** Seconds between automatic reloads of the page. */
export const STATUS_PAGE_REFRESH_SECONDS = 60;

/**
 * The operators' page (pure: view -> HTML): every ring's picture, key table and problems, every
 * channel's head, front-ends with position and lag, and the queues' backlog. One self-contained
 * document: inline CSS, inline SVG, no script, so it needs no build step and runs under a strict CSP.
 */
export function renderStatusPage(view: OperatorsView): string {
  const at = formatDotnetDate(view.at);
  const body = [
    `<header><h1>ringkeeper</h1><p class="overall">${badge(view.report.health)} at <time datetime="${attr(at)}">${text(at)}</time> · reloads every ${STATUS_PAGE_REFRESH_SECONDS} s</p></header>`,
    '<h2>Key rings</h2>',
    view.rings.length === 0 ? '<p class="none">No key ring is configured.</p>' : view.rings.map((r) => ringSection(r, view.at)).join('\n'),
    '<h2>Cache channels</h2>',
    view.cache ? cacheSection(view.cache, view.report.channels) : '<p class="none">No cache channel is configured.</p>',
  ];
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${STATUS_PAGE_REFRESH_SECONDS}">
<title>ringkeeper status (${text(view.report.health)})</title>
<style>${STYLE}</style>
</head>
<body>
${body.join('\n')}
</body>
</html>
`;
}

function ringSection(view: RingView, at: number): string {
  const parts = [`<section class="ring" data-ring="${attr(view.name)}" data-health="${view.health.health}">`, `<h3>${text(view.name)} ${badge(view.health.health)}</h3>`];
  parts.push(reasons(view.health));
  if (view.status && view.ring) {
    const s = view.status;
    parts.push(
      `<p class="meta">default key now <code>${text(s.defaultKey ?? '(none)')}</code>${s.resolution === 'fallback' ? ' (fallback)' : ''} · in 2 days <code>${text(s.defaultKeyAfterPropagation ?? '(none)')}</code> · ${text(s.location)}</p>`,
    );
    parts.push(`<div class="picture">${renderTimeline(view.ring, at, { ringName: view.name })}</div>`);
    // The rows the picture draws, in its order; long-expired keys are counted, not listed.
    const { shown, collapsed, cutoff } = timelineRows(view.ring, at);
    const byId = new Map(s.keys.map((k) => [k.id, k]));
    parts.push('<table class="keys"><thead><tr><th>key</th><th>state</th><th>created</th><th>activates</th><th>expires</th><th>protection</th><th></th></tr></thead><tbody>');
    if (collapsed.length > 0)
      parts.push(
        `<tr class="collapsed"><td colspan="7">${collapsed.length} key(s) expired before ${date(formatDotnetDate(cutoff))} not listed (<code>ringkeeper status --ring ${text(view.name)}</code> lists every key)</td></tr>`,
      );
    for (const k of shown.map((r) => byId.get(r.id)!)) {
      const state = keyState({ activationDate: Date.parse(k.activationDate), expirationDate: Date.parse(k.expirationDate), revoked: k.revoked }, at);
      const marks = [k.id === s.defaultKey ? 'default now' : '', k.id === s.defaultKeyAfterPropagation ? 'default in 2 days' : ''].filter(Boolean).join(', ');
      parts.push(
        `<tr class="key state-${state}" data-key-id="${attr(k.id)}"><td><code title="${attr(k.id)}">${text(k.id)}</code></td><td>${state}</td><td>${date(k.creationDate)}</td><td>${date(k.activationDate)}</td><td>${date(k.expirationDate)}</td><td>${text(k.protection)}</td><td>${text(marks)}</td></tr>`,
      );
    }
    parts.push('</tbody></table>');
  }
  parts.push('</section>');
  return parts.join('\n');
}

function cacheSection(cache: CacheStatus, healths: readonly ComponentHealth[]): string {
  const parts = cache.channels.map((c) =>
    channelSection(
      c,
      healths.find((h) => h.name === c.channel),
    ),
  );
  const rejected = cache.rejected;
  parts.push(
    `<p class="queues">fan-out input <code>${text(cache.instructions.queue)}</code>: <span class="instructions-count">${cache.instructions.count ?? '?'}</span> waiting${cache.instructions.oldestSeconds ? `, oldest ${cache.instructions.oldestSeconds} s` : ''} · rejected <code>${text(rejected.queue)}</code>: <span class="rejected-count" data-count="${rejected.count ?? ''}">${rejected.count ?? '?'}</span> (${rejected.lastHour}${rejected.lastHourIsLowerBound ? '+' : ''} in the last hour)</p>`,
  );
  return parts.join('\n');
}

function channelSection(c: ChannelStatus, health: ComponentHealth | undefined): string {
  const parts = [`<section class="channel" data-channel="${attr(c.channel)}" data-head="${c.head}">`, `<h3>${text(c.channel)} ${health ? badge(health.health) : ''}</h3>`];
  if (health) parts.push(reasons(health));
  parts.push(`<p class="meta">head sequence <strong class="head">${c.head}</strong> · ${c.frontEnds.filter((f) => f.live).length} live front-end(s)</p>`);
  if (c.frontEnds.length > 0) {
    parts.push('<table class="front-ends"><thead><tr><th>front-end</th><th>heartbeat</th><th>position</th><th>behind</th><th>waiting</th><th>lag</th></tr></thead><tbody>');
    for (const f of [...c.frontEnds].sort((a, b) => Number(b.live) - Number(a.live) || a.instance.localeCompare(b.instance))) {
      parts.push(
        `<tr class="front-end${f.live ? '' : ' stale'}" data-instance="${attr(f.instance)}" data-position="${f.position}" data-lag-seconds="${f.lagSeconds}"><td>${text(f.instance)}${f.live ? '' : ' (stale)'}</td><td>${f.heartbeat ? date(f.heartbeat) : '-'}</td><td>${f.position}</td><td>${f.behind}</td><td>${f.waiting}</td><td class="lag">${f.lagSeconds} s</td></tr>`,
      );
    }
    parts.push('</tbody></table>');
  }
  parts.push('</section>');
  return parts.join('\n');
}

function reasons(health: ComponentHealth): string {
  if (health.reasons.length === 0) return '';
  return `<ul class="problems">${health.reasons.map((r) => `<li class="${r.severity}" data-code="${attr(r.code)}"><strong>${r.severity}</strong> <code>${text(r.code)}</code> ${text(r.message)}</li>`).join('')}</ul>`;
}

function badge(health: Health): string {
  return `<span class="badge ${health}">${health}</span>`;
}

function date(iso: string): string {
  return `<time datetime="${attr(iso)}">${text(iso.slice(0, 16).replace('T', ' '))}</time>`;
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1b1f24;max-width:1100px}
h1{margin:0;font-size:22px}h2{margin:28px 0 8px;font-size:18px;border-bottom:1px solid #d0d7de;padding-bottom:4px}h3{margin:18px 0 6px;font-size:16px}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.badge{display:inline-block;padding:0 8px;border-radius:10px;font-size:12px;font-weight:600;color:#fff}
.badge.ok{background:#1a7f37}.badge.warning{background:#9a6700}.badge.critical{background:#cf222e}
.meta,.queues,.none{color:#57606a}.picture{overflow-x:auto;margin:6px 0}
table{border-collapse:collapse;margin:6px 0}th,td{padding:3px 10px;border-bottom:1px solid #eaeef2;text-align:left;white-space:nowrap}th{font-size:12px;color:#57606a}
tr.state-revoked td:first-child code{text-decoration:line-through;color:#b42318}tr.state-expired{color:#6e7781}
tr.stale{color:#6e7781}td.lag{font-variant-numeric:tabular-nums}
ul.problems{margin:4px 0;padding-left:18px}li.critical strong{color:#cf222e}li.warning strong{color:#9a6700}
`;
