#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite: the dev build, then again under
# AddressSanitizer + UndefinedBehaviorSanitizer and ThreadSanitizer.
# PARLEY_TEST_PRESETS="dev" limits the presets (default: "dev asan tsan"). First, the protocol
# decoder is fuzzed for PARLEY_FUZZ_SECONDS (default 30; 0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# llama-server from the pinned llama.cpp source, for the integration tests against a real server
# (about 9 minutes on 2 idle cores the first time; skipped when already built).
./scripts/llama/build_server.sh
jobs=$(nproc)
if [ "${PARLEY_FUZZ_SECONDS:-30}" -gt 0 ]; then
  echo "== fuzz: protocol decoder, ${PARLEY_FUZZ_SECONDS:-30} s"
  ./scripts/fuzz.sh "${PARLEY_FUZZ_SECONDS:-30}" 2>&1 | tail -n 12
fi
for preset in ${PARLEY_TEST_PRESETS:-dev asan tsan}; do
  echo "== $preset: build"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  echo "== $preset: test"
  ctest --preset "$preset" -j "$jobs"
done
