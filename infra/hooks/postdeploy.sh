#!/usr/bin/env bash
# azd postdeploy hook: the same initial rotation as infra/deploy.sh (infra/scripts/initial-rotation.sh),
# so both paths end with a key in every ring before any web app starts. azd runs hooks with the
# environment's values (the deployment outputs among them) in the process environment; output
# names are looked up case-insensitively, and array outputs arrive as JSON text.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# Value of one azd environment value, matched case-insensitively; strings raw, JSON kept as text.
env_value() {
  node -e '
    const want = process.argv[1].toLowerCase();
    const key = Object.keys(process.env).find((k) => k.toLowerCase() === want);
    if (key === undefined || process.env[key] === "") { console.error(`postdeploy: the azd environment has no ${process.argv[1]} (run azd provision first)`); process.exit(1); }
    process.stdout.write(process.env[key]);
  ' "$1"
}

resource_group="${AZURE_RESOURCE_GROUP:-$(env_value resourceGroupName)}"
func_name="$(env_value functionAppName)"
func_host="$(env_value functionAppHostName)"
rings="$(env_value rings | node -e 'for (const r of JSON.parse(require("fs").readFileSync(0, "utf8"))) console.log(r.name)')"

# The operator CLI's configuration, as deploy.sh writes it (no secrets).
config_out="${RINGKEEPER_CONFIG_OUT:-$root/.ringkeeper/azure.json}"
mkdir -p "$(dirname "$config_out")"
env_value ringkeeperConfig >"$config_out"
printf '==> ringkeeper config for the operator CLI: %s\n' "$config_out" >&2

RESOURCE_GROUP="$resource_group" FUNCTION_APP_NAME="$func_name" FUNCTION_APP_HOST="$func_host" RINGS="$rings" \
  bash "$root/infra/scripts/initial-rotation.sh"
