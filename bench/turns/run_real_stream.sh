#!/usr/bin/env bash
# The turn-end policy in the real stream: `parley bench` (pocketsphinx partials, the session's
# endpointer, the local responder) on four subsets of the turns corpus, each with the fixed
# 400 ms silence (--turn-taking off) and with the conversational preset, side by side.
#
#   bench/turns/run_real_stream.sh [MANIFEST] [OUT]
#     MANIFEST  out/turns/manifest.jsonl (make_turn_corpus.py writes it)
#     OUT       where the subsets, the tables (*.txt) and the JSON reports go (default out/turns-real)
#   PARLEY=build/release/parley  POLICIES="off conversational"  CONCURRENCY=3
#   SETS="dev-none test-none dev-mid700 test-mid700"
#
# Subsets: {dev,test}-none = the short complete requests, every voice of the split (72 files each);
# {dev,test}-midN (N = 300, 500, 700, 900, 1200) = the mid-sentence sentences with an N ms pause,
# one flite and one espeak-ng voice of the split (48 files each). A policy is a --turn-taking
# preset, optionally with "-nomerge" (--merge-window-ms 0: merged turns off), e.g.
# POLICIES="conversational-nomerge conversational". About 15 minutes on 2 cores for the default
# sets and policies (the audio is streamed in real time).
set -euo pipefail
cd "$(dirname "$0")/../.."
manifest=${1:-out/turns/manifest.jsonl}
out=${2:-out/turns-real}
parley=${PARLEY:-build/release/parley}
[ -f "$manifest" ] || { echo "no manifest at $manifest: run bench/turns/make_turn_corpus.py first" >&2; exit 2; }
[ -x "$parley" ] || { echo "no parley at $parley: cmake --preset release && cmake --build --preset release" >&2; exit 2; }
mkdir -p "$out"
python3 - "$manifest" "$out" <<'PY'
import json, os, sys
manifest, out = sys.argv[1], sys.argv[2]
rows = [json.loads(line) for line in open(manifest) if line.strip()]
for r in rows:  # the subsets live elsewhere: their audio paths must not be relative to the manifest
    r["file"] = os.path.join(os.path.dirname(os.path.abspath(manifest)), r["file"])
first_voice = {}  # split -> {synth: first voice seen}
for r in rows:
    first_voice.setdefault(r["split"], {}).setdefault(r["voice"].split(":")[0], r["voice"])
for split in ("dev", "test"):
    subsets = {
        "none": [r for r in rows if r["split"] == split and r["pause_kind"] == "none"],
    }
    for pause in (300, 500, 700, 900, 1200):
        subsets[f"mid{pause}"] = [r for r in rows if r["split"] == split and r["pause_kind"] == "mid_sentence"
                                  and r["pause_ms"] == pause and r["voice"] in first_voice[split].values()]
    for name, subset in subsets.items():
        with open(f"{out}/{split}-{name}.jsonl", "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in subset)
        print(f"{split}-{name}: {len(subset)} files")
PY
for set in ${SETS:-dev-none test-none dev-mid700 test-mid700}; do
  for policy in ${POLICIES:-off conversational}; do
    flags=(--turn-taking "${policy%-nomerge}")
    [ "$policy" = "${policy%-nomerge}" ] || flags+=(--merge-window-ms 0)
    "$parley" bench --manifest "$out/$set.jsonl" --concurrency "${CONCURRENCY:-3}" --no-progress \
      "${flags[@]}" --json "$out/$set-$policy.json" > "$out/$set-$policy.txt" 2>&1
    echo "== $set · $policy"
    grep -E '^(endpoint_delay|ttfa) |sessions ·' "$out/$set-$policy.txt" | head -3
  done
done
