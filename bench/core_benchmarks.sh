#!/usr/bin/env bash
# The streaming-core benchmarks recorded in docs/benchmarks.md. Needs the shared corpus
# (../shared/corpus beside the checkout, or CORPUS=/path/to/manifest.jsonl) and a release build.
# Writes one JSON report per run into out/bench/ and prints each run's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
manifest=${CORPUS:-../shared/corpus/manifest.jsonl}
[ -f "$manifest" ] || { echo "no corpus manifest at $manifest (set CORPUS=...)" >&2; exit 2; }
cmake --preset release >/dev/null
cmake --build --preset release --target parley_cli >/dev/null
parley=./build/release/parley
mkdir -p out/bench

run() {  # name, then parley bench flags
  local name=$1; shift
  echo "=== $name: parley bench $*"
  # --cache off: these measure the pipeline; a second pass would otherwise be answered from the cache.
  "$parley" bench --manifest "$manifest" --engines mock --cache off --no-progress --json "out/bench/$name.json" "$@"
  echo
}

# 1. parley's own overhead: every provider latency zero.
run overhead-zero --llm-profile zero --tts-profile zero --asr-final-ms 0 --concurrency 8 --mode streaming
# 2. streaming vs sequential, side by side in one run, with a real provider's shape.
run streaming-vs-sequential --llm-profile cloud-fast-tier --tts-profile piper-cpu --concurrency 32 --mode both
# 3. 200 concurrent sessions on this machine (two passes over the corpus: 336 sessions).
run concurrency-200 --llm-profile cloud-fast-tier --tts-profile piper-cpu --concurrency 200 --repeat 2 --mode streaming
run concurrency-200-zero --llm-profile zero --tts-profile zero --asr-final-ms 0 --concurrency 200 --repeat 2 --mode streaming
# 4. response cache: the second pass over the clean flite-slt files is answered from the cache,
#    side by side with the first pass's LLM route (per-route tables).
clean=out/bench/clean-slt.jsonl
dir=$(cd "$(dirname "$manifest")" && pwd)
grep '"condition": "clean"' "$manifest" | grep '"voice": "flite:slt"' | sed "s|\"file\": \"|\"file\": \"$dir/|" > "$clean"
"$parley" bench --manifest "$clean" --engines mock --no-progress --json out/bench/cache-memory.json \
  --asr-final-ms 0 --cache memory --repeat 2 --concurrency 4 --mode streaming
