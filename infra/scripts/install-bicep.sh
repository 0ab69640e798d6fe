#!/usr/bin/env bash
# Installs the Bicep CLI from NuGet (Azure.Bicep.CommandLine.<rid>, the native tool package) into
# .tools/bicep/bicep. Idempotent. If the configured NuGet sources do not serve the package (or
# dotnet is missing), it records why in .tools/bicep/UNAVAILABLE and exits 0: the tests then skip
# `bicep build`/`bicep lint` with that reason instead of failing on a machine that cannot have it.
# Env: BICEP_VERSION (default: newest stable the source serves), BICEP_RID (default linux-x64).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dest="$root/.tools/bicep"
rid="${BICEP_RID:-linux-x64}"
package="Azure.Bicep.CommandLine.$rid"
mkdir -p "$dest"

unavailable() {
  printf '%s\n' "$*" >"$dest/UNAVAILABLE"
  echo "install-bicep: $*" >&2
  exit 0
}

if [[ -x "$dest/bicep" ]] && "$dest/bicep" --version >/dev/null 2>&1; then
  rm -f "$dest/UNAVAILABLE"
  echo "install-bicep: $("$dest/bicep" --version)" >&2
  exit 0
fi

command -v dotnet >/dev/null 2>&1 || unavailable "dotnet is not installed, so $package cannot be restored from NuGet"

version="${BICEP_VERSION:-}"
if [[ -z "$version" ]]; then
  version="$(dotnet package search "$package" --exact-match --format json 2>/dev/null | node -e '
    const r = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const versions = (r.searchResult ?? []).flatMap((s) => s.packages ?? []).map((p) => p.version ?? p.latestVersion).filter((v) => v && !v.includes("-"));
    const key = (v) => v.split(".").map((n) => n.padStart(8, "0")).join(".");
    versions.sort((a, b) => (key(a) < key(b) ? -1 : 1));
    process.stdout.write(versions.at(-1) ?? "");
  ' || true)"
fi
[[ -n "$version" ]] || unavailable "$package is not served by the configured NuGet sources ($(dotnet nuget list source 2>/dev/null | grep -Eo 'https?://[^ ]+' | paste -sd ' ' -))"

# A throwaway project whose only job is to download the package into a private packages folder.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat >"$work/download.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>netstandard2.0</TargetFramework></PropertyGroup>
  <ItemGroup><PackageDownload Include="$package" Version="[$version]" /></ItemGroup>
</Project>
XML
packages="$dest/packages"
if ! dotnet restore "$work/download.csproj" --packages "$packages" >"$work/restore.log" 2>&1; then
  unavailable "restoring $package $version failed: $(grep -m1 -E 'error' "$work/restore.log" || tail -n1 "$work/restore.log")"
fi
binary="$(find "$packages/$(echo "$package" | tr '[:upper:]' '[:lower:]')/$version" -type f -name bicep -print -quit 2>/dev/null || true)"
[[ -n "$binary" ]] || unavailable "$package $version has no bicep binary"
cp "$binary" "$dest/bicep"
chmod +x "$dest/bicep"
"$dest/bicep" --version >/dev/null 2>&1 || unavailable "$package $version does not run here"
rm -f "$dest/UNAVAILABLE"
echo "install-bicep: installed $("$dest/bicep" --version) to $dest/bicep" >&2
