#!/usr/bin/env bash
# The store assistant from its file against the same settings as flags (parley's defaults), side
# by side: the embedded stack on the corpus's clean recordings, runs alternating, TTFA and
# endpoint→first audio per run. Needs the corpus (../shared/corpus beside the checkout, or
# CORPUS=/path/to/manifest.jsonl) and a built parley (PARLEY=path, default build/release/parley).
# Usage: bench/assistant/run_assistant_file.sh [ROUNDS (default 2)] [extra bench flags]
set -euo pipefail
cd "$(dirname "$0")/../.."
manifest=${CORPUS:-../shared/corpus/manifest.jsonl}
[ -f "$manifest" ] || { echo "no corpus manifest at $manifest (set CORPUS=...)" >&2; exit 2; }
parley=${PARLEY:-build/release/parley}
[ -x "$parley" ] || { echo "no parley binary at $parley (set PARLEY=...)" >&2; exit 2; }
rounds=${1:-2}
shift || true
mkdir -p out/bench/assistant
clean=out/bench/assistant/clean.jsonl
dir=$(cd "$(dirname "$manifest")" && pwd)
grep '"condition": "clean"' "$manifest" | sed "s|\"file\": \"|\"file\": \"$dir/|" > "$clean"
for round in $(seq 1 "$rounds"); do
  for variant in flags file; do
    extra=()
    [ "$variant" = file ] && extra=(--assistant examples/assistants/store.toml)
    "$parley" bench --manifest "$clean" --concurrency 2 --no-progress --mode streaming \
      --json "out/bench/assistant/$variant-$round.json" "${extra[@]}" "$@" > /dev/null
    python3 - "$variant" "$round" "out/bench/assistant/$variant-$round.json" <<'PY'
import json, sys
variant, rnd, path = sys.argv[1:]
streaming = json.load(open(path))["streaming"]
def cell(name):
    m = streaming.get(name)
    return f"{m['p50']:7.1f} {m['p95']:7.1f}" if m else "      —       —"
print(f"{variant:5} round {rnd}: n {streaming['ttfa']['n']:3}  ttfa p50/p95 {cell('ttfa')}  overhead p50/p95 {cell('overhead')}")
PY
  done
done
