#!/usr/bin/env bash
# Installs the pinned Bicep CLI from NuGet (Azure.Bicep.CommandLine.<rid>, the native tool package)
# into .tools/bicep/bicep. Idempotent: an installed binary of the pinned version is kept. The CLI is
# required (it judges every template in CI), so any failure exits non-zero with the reason.
# Env: BICEP_VERSION (default: the pinned version below, so a new release cannot change what CI
#      compiles with; bump it deliberately), BICEP_RID (default linux-x64).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dest="$root/.tools/bicep"
rid="${BICEP_RID:-linux-x64}"
package="Azure.Bicep.CommandLine.$rid"
version="${BICEP_VERSION:-0.49.2}"
mkdir -p "$dest"

fail() {
  echo "install-bicep: $*" >&2
  exit 1
}

installed="$("$dest/bicep" --version 2>/dev/null || true)"
if [[ "$installed" == *" $version "* ]]; then
  echo "install-bicep: $installed" >&2
  exit 0
fi

command -v dotnet >/dev/null 2>&1 || fail "dotnet is not installed, so $package $version cannot be restored from NuGet"

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
  fail "restoring $package $version failed: $(grep -m1 -E 'error' "$work/restore.log" || tail -n1 "$work/restore.log")"
fi
binary="$(find "$packages/$(echo "$package" | tr '[:upper:]' '[:lower:]')/$version" -type f -name bicep -print -quit 2>/dev/null || true)"
[[ -n "$binary" ]] || fail "$package $version has no bicep binary"
cp "$binary" "$dest/bicep"
chmod +x "$dest/bicep"
"$dest/bicep" --version >/dev/null 2>&1 || fail "$package $version does not run here"
rm -f "$dest/UNAVAILABLE"
echo "install-bicep: installed $("$dest/bicep" --version) to $dest/bicep" >&2
