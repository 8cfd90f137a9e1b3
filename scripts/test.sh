#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite: the dev build, then again under
# AddressSanitizer + UndefinedBehaviorSanitizer and ThreadSanitizer.
# PARLEY_TEST_PRESETS="dev" limits the presets (default: "dev asan tsan").
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
jobs=$(nproc)
for preset in ${PARLEY_TEST_PRESETS:-dev asan tsan}; do
  echo "== $preset: build"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  echo "== $preset: test"
  ctest --preset "$preset" -j "$jobs"
done
