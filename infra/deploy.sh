#!/usr/bin/env bash
# Deploys ringkeeper end to end with the az CLI:
#   1. az group create
#   2. az deployment group create -f infra/main.bicep -p infra/main.parameters.json [overrides]
#   3. build and publish the function code (zip deploy to the Flex Consumption app)
#   4. an initial rotation through the deployed HTTP API, so every ring has a key before any web
#      app starts (web apps run with DisableAutomaticKeyGeneration and never create one).
#
# Usage:  RESOURCE_GROUP=rg-ringkeeper [LOCATION=swedencentral] infra/deploy.sh [az parameter overrides...]
#         e.g. infra/deploy.sh "slots=[\"staging\",\"qa\"]"
# Environment:
#   RESOURCE_GROUP            required
#   LOCATION                  default swedencentral (must offer Flex Consumption)
#   DEPLOYMENT_NAME           default ringkeeper
#   SKIP_PUBLISH=1            skip building/publishing the function code
#   SKIP_ROTATION=1           skip the initial rotation
#   ROTATION_TIMEOUT_SECONDS  how long to retry while the app starts and role assignments propagate (default 900)
#   RINGKEEPER_CONFIG_OUT     where to write the generated ringkeeper config for the operator CLI
#                             (default .ringkeeper/azure.json; no secrets in it)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
: "${RESOURCE_GROUP:?set RESOURCE_GROUP to the target resource group}"
location="${LOCATION:-swedencentral}"
deployment="${DEPLOYMENT_NAME:-ringkeeper}"
timeout_s="${ROTATION_TIMEOUT_SECONDS:-900}"
config_out="${RINGKEEPER_CONFIG_OUT:-$root/.ringkeeper/azure.json}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
chmod 700 "$work"

log() { printf '==> %s\n' "$*" >&2; }

# Value of one deployment output: strings raw, everything else as JSON.
output() {
  node -e '
    const outputs = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const key = Object.keys(outputs).find((k) => k.toLowerCase() === process.argv[2].toLowerCase());
    if (!key) { console.error(`deployment output ${process.argv[2]} is missing`); process.exit(1); }
    const v = outputs[key].value;
    process.stdout.write(typeof v === "string" ? v : JSON.stringify(v));
  ' "$work/outputs.json" "$1"
}

log "resource group $RESOURCE_GROUP ($location)"
az group create --name "$RESOURCE_GROUP" --location "$location" --output none

log "deploying infra/main.bicep"
az deployment group create \
  --resource-group "$RESOURCE_GROUP" \
  --name "$deployment" \
  --template-file "$root/infra/main.bicep" \
  --parameters "$root/infra/main.parameters.json" "$@" \
  --query properties.outputs \
  --output json >"$work/outputs.json"

func_name="$(output functionAppName)"
func_host="$(output functionAppHostName)"
mkdir -p "$(dirname "$config_out")"
output ringkeeperConfig >"$config_out"
log "ringkeeper config for the operator CLI: $config_out"

if [[ "${SKIP_PUBLISH:-0}" != 1 ]]; then
  log "building the function code"
  (cd "$root" && npm ci --no-audit --no-fund && npm run build)
  stage="$work/package"
  mkdir -p "$stage"
  cp -R "$root/dist" "$root/host.json" "$root/package.json" "$root/package-lock.json" "$stage/"
  # Production dependencies only; the optional Core Tools are a local-development tool.
  (cd "$stage" && npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund)
  (cd "$stage" && zip -qr "$work/function.zip" .)
  log "publishing to $func_name (Flex Consumption zip deploy)"
  az functionapp deployment source config-zip \
    --resource-group "$RESOURCE_GROUP" \
    --name "$func_name" \
    --src "$work/function.zip" \
    --output none
fi

if [[ "${SKIP_ROTATION:-0}" == 1 ]]; then
  log "skipping the initial rotation (SKIP_ROTATION=1): web apps must not start before every ring has a key"
  exit 0
fi

# The function key goes to curl through a header file, never on a command line.
headers="$work/headers"
(umask 077 && printf 'x-functions-key: %s\n' \
  "$(az functionapp keys list --resource-group "$RESOURCE_GROUP" --name "$func_name" --query functionKeys.default --output tsv)" >"$headers")

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

rings="$(output rings | node -e 'for (const r of JSON.parse(require("fs").readFileSync(0, "utf8"))) console.log(r.name)')"
deadline=$((SECONDS + timeout_s))
for ring in $rings; do
  rotated=0
  # Retry while the app indexes its functions and role assignments propagate (403 -> 5xx).
  while :; do
    status="$(call "https://$func_host/api/keyrings/$ring")"
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
      status="$(call -X POST "https://$func_host/api/keyrings/$ring/rotate")"
      if [[ "$status" == 2* ]]; then
        rotated=1
        continue
      fi
    fi
    if ((SECONDS >= deadline)); then
      log "ring $ring: giving up after ${timeout_s}s (last HTTP $status): $(head -c 500 "$work/body" 2>/dev/null)"
      exit 1
    fi
    log "ring $ring: HTTP $status, retrying in 15s"
    sleep "${RETRY_SLEEP_SECONDS:-15}"
  done
done

log "done: every ring has a key. Deploy the web app now (see infra/README.md)."
