#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite: the dev build, then again under
# AddressSanitizer + UndefinedBehaviorSanitizer and ThreadSanitizer.
# PARLEY_TEST_PRESETS="dev" limits the presets (default: "dev asan tsan"). First, the protocol
# decoder, the Opus path, the media-stream decoder and the multipart/form-data parser are fuzzed for
# PARLEY_FUZZ_SECONDS each (default 25; 0 skips them).
set -euo pipefail
cd "$(dirname "$0")/.."
# Each phase says when it starts (time since this script began), so a slow CI run shows where.
phase() { echo "== $* (at $((SECONDS / 60)) min $((SECONDS % 60)) s)"; }
./scripts/setup.sh
# llama-server from the pinned llama.cpp source, for the integration tests against a real server
# (-O1: about 5 minutes on 2 idle cores the first time; skipped when already built, or when a
# full -O3 build is there).
phase "llama-server"
./scripts/llama/build_server.sh --quick
jobs=$(nproc)
if [ "${PARLEY_FUZZ_SECONDS:-20}" -gt 0 ]; then
  phase "fuzz: protocol decoder, Opus packets, media streams, Realtime events and multipart uploads, ${PARLEY_FUZZ_SECONDS:-20} s each"
  ./scripts/fuzz.sh "${PARLEY_FUZZ_SECONDS:-20}" 2>&1 | grep -E '^(building|fuzzing|Done|stat::new_units|==[0-9]+==|SUMMARY|artifact_prefix)'
fi
for preset in ${PARLEY_TEST_PRESETS:-dev asan tsan}; do
  phase "$preset: build"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  phase "$preset: test"
  ctest --preset "$preset" -j "$jobs"
done
phase "done"
