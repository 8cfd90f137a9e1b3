#!/usr/bin/env bash
# Fetches the pinned llama.cpp that parley embeds into third_party/llama/:
#   npm/node-llama-cpp/    the npm package, which ships llama.cpp's source as a git bundle
#   npm/linux-x64/         the matching prebuilt shared libraries (bins/linux-x64/*.so)
#   src/                   the source checked out of the bundle (headers, gguf-py, llama-server)
#   lib/                   the prebuilt libraries, flattened (what CMake links and what loads)
# Only the two tarballs are fetched (npm pack), each checked against the pinned sha512; no package
# scripts run. Idempotent: a complete, matching third_party/llama is left alone.
# A system llama.cpp (find_package(llama)) takes precedence in CMake; this is the fallback.
set -euo pipefail
cd "$(dirname "$0")/.."

version=3.22.1
declare -A integrity=(
  [node-llama-cpp]=sha512-bltIipuWmc123H7tMIgDGKSsSrhmhlQYeVUC48XTjVW7XGJJiJJyCdlTMzQ/LiWoPkGDpcL4FviDpgw7qfTiDw==
  [@node-llama-cpp/linux-x64]=sha512-5uCCDNqWCNfaAm8aR/Uzxbo4HBpKgNF91kCHPepKhgMgV2OAmatoefbOlMihsqCiH2Od35E/eUHQCFbfRBJuOg==
)
root=third_party/llama
stamp="$root/.complete-$version"

if [ -f "$stamp" ]; then
  echo "fetch_llama: llama.cpp from node-llama-cpp $version present"
  exit 0
fi
if [ "$(uname -m)" != "x86_64" ]; then
  echo "fetch_llama: prebuilt libraries exist for x86_64 only; install llama.cpp system-wide instead" >&2
  exit 1
fi

echo "fetch_llama: fetching node-llama-cpp $version (llama.cpp source and prebuilt libraries)"
rm -rf "$root"
mkdir -p "$root/npm" "$root/lib"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

unpack() {  # package, destination directory
  local pkg=$1 dest=$2 tgz want got
  tgz=$(cd "$tmp" && npm pack --silent "$pkg@$version" 2>/dev/null | tail -n 1)
  want=${integrity[$pkg]}
  got="sha512-$(openssl dgst -sha512 -binary "$tmp/$tgz" | base64 -w0)"
  if [ "$got" != "$want" ]; then
    echo "fetch_llama: $pkg@$version does not match its pinned checksum" >&2
    exit 1
  fi
  mkdir -p "$dest"
  tar -xzf "$tmp/$tgz" -C "$dest" --strip-components=1
}
unpack node-llama-cpp "$root/npm/node-llama-cpp"
unpack @node-llama-cpp/linux-x64 "$root/npm/linux-x64"

git clone --quiet "$root/npm/node-llama-cpp/llama/gitRelease.bundle" "$root/src" 2>/dev/null
# The JavaScript half of the package is not needed; the bundle now lives in src/.
rm -rf "$root/npm/node-llama-cpp"
cp -a "$root"/npm/linux-x64/bins/linux-x64/*.so "$root/lib/"
touch "$stamp"
echo "fetch_llama: done ($(ls "$root/lib" | wc -l) libraries, source at $root/src)"
