#!/usr/bin/env bash
# Barge-in benchmark (docs/benchmarks.md, "Barge-in"): every clean open question of the corpus is
# asked, and 1.5 s after its speech ends — while the reply plays — a short question from another
# voice is spoken over it. `parley bench --barge-in` reports how many replies were cut and
#   barge_in_detect  — the interrupting speech's VAD onset → the session's decision (≈ min speech)
#   barge_in_silence — the decision → the loudspeaker silent (what the user waits to be heard)
# Needs the shared corpus (CORPUS=/path/to/manifest.jsonl; default ../shared/corpus) and a build
# (BUILD=build/release). Extra flags go to parley bench, e.g. --engines default.
set -euo pipefail
cd "$(dirname "$0")/../.."
manifest=${CORPUS:-../shared/corpus/manifest.jsonl}
[ -f "$manifest" ] || { echo "no corpus manifest at $manifest (set CORPUS=...)" >&2; exit 2; }
parley=${BUILD:-build/release}/parley
[ -x "$parley" ] || { echo "no parley binary at $parley (set BUILD=...)" >&2; exit 2; }
dir=$(cd "$(dirname "$manifest")" && pwd)
out=out/barge_in && mkdir -p "$out"
python3 - "$manifest" "$dir" > "$out/manifest.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
clean = [r for r in rows if r["condition"] == "clean"]
shorts = [r for r in clean if r["category"] in ("short", "intent")]
for i, r in enumerate(r for r in clean if r["category"] in ("open", "faq")):
    other = [s for s in shorts if s["voice"] != r["voice"]][i % 7]
    r = dict(r, file=f'{sys.argv[2]}/{r["file"]}', interrupt_file=f'{sys.argv[2]}/{other["file"]}',
             interrupt_text=other["text"], interrupt_at_ms=r["speech_end_ms"] + 1500 - other["speech_start_ms"])
    print(json.dumps(r))
PY
echo "$(wc -l < "$out/manifest.jsonl") questions, each talked over 1.5 s after its speech ends"
"$parley" bench --manifest "$out/manifest.jsonl" --barge-in --no-progress --json "$out/report.json" \
  --engines mock --llm-profile cloud-fast-tier --tts-profile piper-cpu --concurrency 8 "$@"
