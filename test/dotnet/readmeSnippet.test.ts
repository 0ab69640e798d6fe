/** The README's Umbraco `Program.cs` lines compile against Ringkeeper.Umbraco (and stay what the docs say). */
import { expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { interopDescribe, ROOT } from '../interop/harness';
import { dotnetEnv, withLock } from '../support/dotnetFrontEnd';
import { runProcess } from '../support/runProcess';

/** The first C# block of the README section "Umbraco and ASP.NET Core front-ends". */
export function readmeUmbracoSnippet(readme: string): string {
  const section = readme.split(/^## /m).find((s) => s.startsWith('Umbraco and ASP.NET Core front-ends'));
  if (!section) throw new Error('README has no section "Umbraco and ASP.NET Core front-ends"');
  const block = /```csharp\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('the README section has no ```csharp block');
  return block[1]!;
}

interopDescribe('README: the Umbraco snippet', () => {
  it('compiles, as a Program.cs after `var builder = WebApplication.CreateBuilder(args);`', async () => {
    const snippet = readmeUmbracoSnippet(readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
    expect(snippet).toContain('.AddRingkeeperCacheSync(new DefaultAzureCredential())');
    const lines = snippet.split('\n');
    const usings = lines.filter((l) => /^using [\w.]+;$/.test(l.trim()));
    const body = lines.filter((l) => !usings.includes(l));
    const dir = mkdtempSync(path.join(tmpdir(), 'rk-readme-snippet-'));
    try {
      const file = path.join(dir, 'Program.cs');
      writeFileSync(file, [...usings, 'var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateBuilder(args);', ...body].join('\n'));
      const project = path.join(ROOT, 'test', 'dotnet', 'ReadmeSnippet', 'ReadmeSnippet.csproj');
      const r = await withLock('build', () =>
        runProcess('dotnet', ['build', project, '-c', 'Release', '-nologo', '-v', 'q', '-nodeReuse:false', '-p:UseSharedCompilation=false', `-p:SnippetFile=${file}`], { cwd: dir, env: dotnetEnv() }),
      );
      expect(r.status, `${r.stdout}\n${r.stderr}`.slice(-4000)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
