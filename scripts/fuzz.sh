#!/usr/bin/env bash
# Builds and runs the libFuzzer target for the protocol v1 decoder (fuzz/protocol_fuzz.cpp) with
# clang++ -fsanitize=fuzzer,address,undefined, for a bounded time.
#   scripts/fuzz.sh [SECONDS]      (default 60; CI uses the default)
# Exit status: 0 when nothing was found; libFuzzer's non-zero status and a crash-* file otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
if ! command -v clang++ >/dev/null; then
  echo "scripts/fuzz.sh needs clang++ (libFuzzer ships with it): apt-get install clang" >&2
  exit 2
fi
out="build/fuzz"
mkdir -p "$out/corpus"
cp -n fuzz/corpus/protocol/* "$out/corpus/" 2>/dev/null || true
bin="$out/protocol_fuzz"
if [[ ! -x "$bin" || fuzz/protocol_fuzz.cpp -nt "$bin" || src/parley/net/protocol.cpp -nt "$bin" || src/parley/net/protocol.hpp -nt "$bin" ]]; then
  echo "building $bin"
  clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -Isrc fuzz/protocol_fuzz.cpp src/parley/net/protocol.cpp -o "$bin"
fi
echo "fuzzing the protocol decoder for ${seconds} s"
"$bin" "$out/corpus" -dict=fuzz/protocol.dict -max_total_time="$seconds" -max_len=8192 -timeout=5 \
  -artifact_prefix="$out/" -print_final_stats=1
