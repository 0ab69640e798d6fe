#!/usr/bin/env bash
# Deploys ringkeeper end to end with the az CLI:
#   1. az group create
#   2. az deployment group create -f infra/main.bicep -p location=$LOCATION [overrides]
#      (the template's defaults; infra/main.parameters.json is azd's, with ${AZURE_*} placeholders)
#   3. build and publish the function code (One Deploy to the Flex Consumption app, retried while
#      the new role assignments propagate)
#   4. an initial rotation through the deployed HTTP API (infra/scripts/initial-rotation.sh, also the
#      azd postdeploy hook), so every ring has a key before any web app starts (web apps run with
#      DisableAutomaticKeyGeneration and never create one).
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
#   PUBLISH_TIMEOUT_SECONDS   how long to retry a publish refused with 403 while roles propagate (default 600)
#   RINGKEEPER_CONFIG_OUT     where to write the generated ringkeeper config for the operator CLI
#                             (default .ringkeeper/azure.json; no secrets in it)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
: "${RESOURCE_GROUP:?set RESOURCE_GROUP to the target resource group}"
location="${LOCATION:-swedencentral}"
deployment="${DEPLOYMENT_NAME:-ringkeeper}"
config_out="${RINGKEEPER_CONFIG_OUT:-$root/.ringkeeper/azure.json}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
chmod 700 "$work"

log() { printf '==> %s\n' "$*" >&2; }
retry_sleep="${RETRY_SLEEP_SECONDS:-15}"

# Flex Consumption takes code only through One Deploy (/api/publish), not Kudu zip deploy; az uses it
# for Flex apps from 2.60.0 (the version the Flex Consumption how-to requires).
min_az=2.60.0
az_version="$(az version --query '"azure-cli"' --output tsv 2>/dev/null || true)"
if [[ -z "$az_version" ]]; then
  echo "deploy.sh: cannot read the az CLI version (az version); install az $min_az or later" >&2
  exit 1
fi
if [[ "$(printf '%s\n%s\n' "$min_az" "$az_version" | sort -V | head -n1)" != "$min_az" ]]; then
  echo "deploy.sh: az $az_version is too old: publishing to Flex Consumption needs az $min_az or later (run: az upgrade)" >&2
  exit 1
fi

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
  --parameters location="$location" "$@" \
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
  # The deployment container's role assignment was made minutes ago: 403 is normal until it applies.
  publish_deadline=$((SECONDS + ${PUBLISH_TIMEOUT_SECONDS:-600}))
  while :; do
    log "publishing to $func_name (Flex Consumption One Deploy)"
    if az functionapp deployment source config-zip \
      --resource-group "$RESOURCE_GROUP" \
      --name "$func_name" \
      --src "$work/function.zip" \
      --output none 2>"$work/publish.err"; then
      break
    fi
    if ! grep -Eqi '403|forbidden|AuthorizationPermissionMismatch|AuthorizationFailure' "$work/publish.err"; then
      log "publish failed: $(head -c 2000 "$work/publish.err")"
      exit 1
    fi
    if ((SECONDS >= publish_deadline)); then
      log "publish still refused (403) after ${PUBLISH_TIMEOUT_SECONDS:-600}s: $(head -c 2000 "$work/publish.err")"
      exit 1
    fi
    log "publish refused (403) while role assignments propagate; retrying in ${retry_sleep}s"
    sleep "$retry_sleep"
  done
fi

if [[ "${SKIP_ROTATION:-0}" == 1 ]]; then
  log "skipping the initial rotation (SKIP_ROTATION=1): web apps must not start before every ring has a key"
  exit 0
fi

# The same step the azd postdeploy hook runs (infra/hooks/postdeploy.sh).
RESOURCE_GROUP="$RESOURCE_GROUP" FUNCTION_APP_NAME="$func_name" FUNCTION_APP_HOST="$func_host" \
  RINGS="$(output rings | node -e 'for (const r of JSON.parse(require("fs").readFileSync(0, "utf8"))) console.log(r.name)')" \
  bash "$root/infra/scripts/initial-rotation.sh"
