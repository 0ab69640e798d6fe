#!/usr/bin/env bash
# The initial rotation after a deployment, shared by infra/deploy.sh and the azd postdeploy hook:
# through the deployed HTTP API (the app's own managed identity does the work, so the operator needs
# no data-plane rights), every ring gets a default key before any web app starts (web apps run with
# DisableAutomaticKeyGeneration and never create one). A ring that already has a key is left alone,
# so running it again is safe.
#
# Environment:
#   RESOURCE_GROUP, FUNCTION_APP_NAME, FUNCTION_APP_HOST   required
#   RINGS                     required: ring names, one per line or space-separated
#   ROTATION_TIMEOUT_SECONDS  how long to retry while the app starts, its keys appear and role
#                             assignments propagate (default 900)
#   RETRY_SLEEP_SECONDS       pause between attempts (default 15)
set -euo pipefail

: "${RESOURCE_GROUP:?set RESOURCE_GROUP}"
: "${FUNCTION_APP_NAME:?set FUNCTION_APP_NAME}"
: "${FUNCTION_APP_HOST:?set FUNCTION_APP_HOST}"
: "${RINGS:?set RINGS to the ring names}"
timeout_s="${ROTATION_TIMEOUT_SECONDS:-900}"
retry_sleep="${RETRY_SLEEP_SECONDS:-15}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
chmod 700 "$work"

log() { printf '==> %s\n' "$*" >&2; }

# The function key goes to curl through a header file, never on a command line. It is fetched inside
# the retry loop: right after a publish the host may not have created its keys yet, and a failed
# fetch must be retried, not turned into an empty header and 15 minutes of 401.
headers="$work/headers"
fetch_key() {
  local key
  key="$(az functionapp keys list --resource-group "$RESOURCE_GROUP" --name "$FUNCTION_APP_NAME" --query functionKeys.default --output tsv 2>"$work/keys.err")" || return 1
  [[ -n "$key" ]] || return 1
  (umask 077 && printf 'x-functions-key: %s\n' "$key" >"$headers")
}

# Prints the HTTP status; the body goes to $work/body.
call() {
  curl --silent --show-error --max-time 60 -H "@$headers" -o "$work/body" -w '%{http_code}' "$@" || true
}

has_default_key() {
  node -e '
    const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    process.exit(s.defaultKey ? 0 : 1);
  ' "$work/body" 2>/dev/null
}

deadline=$((SECONDS + timeout_s))
for ring in $RINGS; do
  rotated=0
  # Retry while the app indexes its functions, creates its keys and role assignments propagate.
  while :; do
    if [[ ! -s "$headers" ]] && ! fetch_key; then
      status="no function key yet ($(head -c 300 "$work/keys.err" 2>/dev/null | tr '\n' ' '))"
    else
      status="$(call "https://$FUNCTION_APP_HOST/api/keyrings/$ring")"
    fi
    if [[ "$status" == 200 ]] && has_default_key; then
      log "ring $ring has a default key"
      break
    fi
    if [[ "$status" == 200 && "$rotated" == 1 ]]; then
      log "ring $ring: rotation succeeded but the status shows no default key: $(head -c 500 "$work/body")"
      exit 1
    fi
    if [[ "$status" == 200 ]]; then
      log "ring $ring has no key yet: rotating"
      status="$(call -X POST "https://$FUNCTION_APP_HOST/api/keyrings/$ring/rotate")"
      if [[ "$status" == 2* ]]; then
        rotated=1
        continue
      fi
    fi
    # A key that stopped working (the host restarted with new keys) is fetched again.
    if [[ "$status" == 401 ]]; then rm -f "$headers"; fi
    if ((SECONDS >= deadline)); then
      log "ring $ring: giving up after ${timeout_s}s (last: $status): $(head -c 500 "$work/body" 2>/dev/null)"
      exit 1
    fi
    log "ring $ring: $status, retrying in ${retry_sleep}s"
    sleep "$retry_sleep"
  done
done

log "done: every ring has a key. Deploy the web app now (see infra/README.md)."
