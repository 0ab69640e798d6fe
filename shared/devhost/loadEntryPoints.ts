import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { globFiles } from './globFiles';

export interface AppPackage {
  main: string;
  type?: string;
}

export function readAppPackage(appRoot: string): AppPackage {
  const file = path.join(appRoot, 'package.json');
  let doc: { main?: unknown; type?: unknown };
  try {
    doc = JSON.parse(readFileSync(file, 'utf8')) as typeof doc;
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
  if (typeof doc.main !== 'string' || doc.main.trim() === '') throw new Error(`${file} has no "main" (the entry point glob of the functions)`);
  return { main: doc.main, type: typeof doc.type === 'string' ? doc.type : undefined };
}

/**
 * Loads every file package.json `main` matches, in order, as the worker does (require for
 * CommonJS, import() for ES modules). Their `app.*` calls register the functions. Unlike the
 * worker, which logs a warning and carries on, a file that fails to load stops the dev host.
 */
export async function loadEntryPoints(appRoot: string): Promise<string[]> {
  const pkg = readAppPackage(appRoot);
  const files = globFiles(appRoot, pkg.main);
  if (files.length === 0) {
    throw new Error(`Worker was unable to load entry point "${pkg.main}": Found zero files matching the supplied pattern (did you run "npm run build"?)`);
  }
  const requireFromApp = createRequire(path.join(appRoot, 'package.json'));
  for (const relative of files) {
    const file = path.join(appRoot, relative);
    const esm = file.endsWith('.mjs') || (pkg.type === 'module' && file.endsWith('.js'));
    try {
      if (esm) await import(pathToFileURL(file).href);
      else {
        // A fresh load, so a second dev host in the same process registers again.
        delete requireFromApp.cache[requireFromApp.resolve(file)];
        requireFromApp(file);
      }
    } catch (err) {
      throw new Error(`Worker was unable to load entry point "${relative}": ${(err as Error).message}`);
    }
  }
  return files;
}
