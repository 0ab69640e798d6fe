import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * The files under `root` matching a glob (`*`, `?`, `[...]`, `**`, `{a,b}`), as the worker resolves
 * package.json `main` with globby. Relative paths with forward slashes, sorted; dot files only
 * when the pattern segment starts with a dot (globby's default).
 */
export function globFiles(root: string, pattern: string): string[] {
  const found = new Set<string>();
  for (const expanded of expandBraces(pattern.replace(/^\.\//, ''))) {
    walk(
      root,
      expanded.split('/').filter((s) => s !== '' && s !== '.'),
      '',
      found,
    );
  }
  return [...found].sort();
}

function walk(root: string, segments: string[], prefix: string, found: Set<string>): void {
  const [head, ...rest] = segments;
  if (head === undefined) {
    if (prefix && isFile(path.join(root, prefix))) found.add(prefix);
    return;
  }
  const dir = path.join(root, prefix);
  if (head === '**') {
    walk(root, rest, prefix, found);
    for (const entry of list(dir)) {
      if (entry.isDirectory() && !entry.name.startsWith('.')) walk(root, segments, join(prefix, entry.name), found);
    }
    return;
  }
  if (!/[*?[]/.test(head)) {
    walk(root, rest, join(prefix, head), found);
    return;
  }
  const matcher = segmentRegExp(head);
  for (const entry of list(dir)) {
    if (entry.name.startsWith('.') && !head.startsWith('.')) continue;
    if (matcher.test(entry.name)) walk(root, rest, join(prefix, entry.name), found);
  }
}

function join(prefix: string, name: string): string {
  return prefix ? `${prefix}/${name}` : name;
}

function list(dir: string) {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function segmentRegExp(segment: string): RegExp {
  let source = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment.charAt(i);
    if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '[') {
      const end = segment.indexOf(']', i + 1);
      if (end < 0) source += '\\[';
      else {
        source +=
          '[' +
          segment
            .slice(i + 1, end)
            .replace(/^!/, '^')
            .replace(/\\/g, '\\\\') +
          ']';
        i = end;
      }
    } else source += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** `a/{b,c}/*.js` -> [`a/b/*.js`, `a/c/*.js`]; nested braces expand recursively. */
export function expandBraces(pattern: string): string[] {
  const open = pattern.indexOf('{');
  if (open < 0) return [pattern];
  let depth = 0;
  const parts: string[] = [];
  let start = open + 1;
  for (let i = open; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '{') depth++;
    else if (c === '}' && --depth === 0) {
      parts.push(pattern.slice(start, i));
      const head = pattern.slice(0, open);
      const tail = pattern.slice(i + 1);
      return parts.flatMap((p) => expandBraces(head + p + tail));
    } else if (c === ',' && depth === 1) {
      parts.push(pattern.slice(start, i));
      start = i + 1;
    }
  }
  return [pattern];
}
