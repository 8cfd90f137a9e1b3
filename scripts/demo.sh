#!/usr/bin/env bash
# Sets up, builds (release) and runs parley on the bundled sample questions.
# Extra arguments go to `parley run` (e.g. --mode sequential, --speed 4).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target parley_cli
mkdir -p out
./build/release/parley run samples/questions.wav -o out/reply.wav --trace out/trace.jsonl "$@"
