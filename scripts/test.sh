#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite: the dev build, then again under
# AddressSanitizer + UndefinedBehaviorSanitizer and ThreadSanitizer.
# PARLEY_TEST_PRESETS="dev" limits the presets (default: "dev asan tsan"). First, the protocol
# decoder and the Opus path are fuzzed for PARLEY_FUZZ_SECONDS each (default 30; 0 skips them).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# llama-server from the pinned llama.cpp source, for the integration tests against a real server
# (about 9 minutes on 2 idle cores the first time; skipped when already built).
./scripts/llama/build_server.sh
jobs=$(nproc)
if [ "${PARLEY_FUZZ_SECONDS:-30}" -gt 0 ]; then
  echo "== fuzz: protocol decoder and Opus packets, ${PARLEY_FUZZ_SECONDS:-30} s each"
  ./scripts/fuzz.sh "${PARLEY_FUZZ_SECONDS:-30}" 2>&1 | grep -E '^(building|fuzzing|Done|stat::new_units|==[0-9]+==|SUMMARY|artifact_prefix)'
fi
for preset in ${PARLEY_TEST_PRESETS:-dev asan tsan}; do
  echo "== $preset: build"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  echo "== $preset: test"
  ctest --preset "$preset" -j "$jobs"
done
