/**
 * Fake `az`, `npm`, `zip` and `curl` for the deployment scripts' tests: each appends its arguments
 * to $FAKE_LOG and keeps its state in $FAKE_STATE, so a test reads the exact call sequence.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

// State-driven fake: FAKE_AZ_VERSION (default 2.67.0); FAKE_STATE/publish-403 and keys-fail hold how
// many more times the publish is refused with 403 / the key listing fails; publish-error, a 400.
const AZ = `#!/usr/bin/env bash
printf 'az %s\\n' "$*" >>"$FAKE_LOG"
countdown() { local f="$FAKE_STATE/$1" n; n="$(cat "$f" 2>/dev/null || echo 0)"; ((n > 0)) || return 1; echo $((n - 1)) >"$f"; }
case "$1 $2 $3" in
  "version --query "*) echo "\${FAKE_AZ_VERSION:-2.67.0}" ;;
  "deployment group create") cat "$FAKE_OUTPUTS" ;;
  "functionapp deployment source")
    if countdown publish-403; then echo "ERROR: Operation returned an invalid status 'Forbidden' (403)" >&2; exit 1; fi
    if countdown publish-error; then echo "ERROR: Bad Request (400): the package has no host.json" >&2; exit 1; fi ;;
  "functionapp keys list")
    if countdown keys-fail; then echo "ERROR: (NotFound) host keys are not available yet" >&2; exit 1; fi
    echo fake-function-key ;;
esac
`;
const NPM = `#!/usr/bin/env bash
printf 'npm %s (in %s)\\n' "$*" "$PWD" >>"$FAKE_LOG"
if [[ "$*" == "run build" ]]; then mkdir -p dist && echo '// built' >dist/index.js; fi
`;
const ZIP = `#!/usr/bin/env bash
printf 'zip %s\\n' "$*" >>"$FAKE_LOG"
: >"$2"
`;
// GET /api/keyrings/<ring>: 503 once (app starting), then a ring without a key until it was rotated.
const CURL = `#!/usr/bin/env bash
method=GET; out=; url=; header=
while (($#)); do
  case "$1" in
    -X) method="$2"; shift ;;
    -o) out="$2"; shift ;;
    -H) header="$2"; shift ;;
    -w|--max-time) shift ;;
    -*) ;;
    *) url="$1" ;;
  esac
  shift
done
printf 'curl %s %s header=%s\\n' "$method" "$url" "$header" >>"$FAKE_LOG"
cp "\${header#@}" "$FAKE_STATE/last-header"
ring="\${url#*/api/keyrings/}"; ring="\${ring%/rotate}"
if [[ "$method" == POST ]]; then touch "$FAKE_STATE/$ring.rotated"; echo '{}' >"$out"; printf 202; exit 0; fi
if [[ ! -e "$FAKE_STATE/$ring.seen" ]]; then touch "$FAKE_STATE/$ring.seen"; echo '{"title":"starting"}' >"$out"; printf 503; exit 0; fi
if [[ -e "$FAKE_STATE/$ring.rotated" ]]; then echo '{"ring":"'$ring'","defaultKey":{"id":"k"}}' >"$out"; else echo '{"ring":"'$ring'","defaultKey":null}' >"$out"; fi
printf 200
`;


/** Writes the fakes into `bin` (put it first on PATH). */
export function installFakeClis(bin: string): void {
  mkdirSync(bin, { recursive: true });
  for (const [name, text] of Object.entries({ az: AZ, npm: NPM, zip: ZIP, curl: CURL })) {
    writeFileSync(path.join(bin, name), text);
    chmodSync(path.join(bin, name), 0o755);
  }
}

/**
 * Runs a script without blocking the test worker (the scripts call node and the fakes many times,
 * which takes seconds on a busy machine; a blocked worker cannot report to the test runner).
 */
export function runScript(args: string[], options: { env: NodeJS.ProcessEnv; cwd?: string }): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
