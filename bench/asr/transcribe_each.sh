#!/usr/bin/env bash
# Recognition as a user meets it: every file of a manifest through its own `parley transcribe`
# process (a fresh session each time: nothing adapted to earlier files), several at once.
#
#   bench/asr/transcribe_each.sh MANIFEST OUT.tsv [-- TRANSCRIBE FLAGS...]
#
# OUT.tsv: "FILE<TAB>TRANSCRIPT" per file (empty when nothing was recognised), the input of
# parley_asr_bench --transcripts NAME=OUT.tsv. PARLEY (default build/release/parley, else
# build/dev/parley) picks the binary; JOBS (default: the number of cores) how many run at once.
set -euo pipefail
if [ $# -lt 2 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
manifest=$1 out=$2
shift 2
[ "${1:-}" = "--" ] && shift
here=$(cd "$(dirname "$0")/../.." && pwd)
parley=${PARLEY:-}
if [ -z "$parley" ]; then
  for b in release dev; do
    if [ -x "$here/build/$b/parley" ]; then parley="$here/build/$b/parley"; break; fi
  done
fi
[ -x "${parley:-}" ] || { echo "transcribe_each: no parley binary (build one, or set PARLEY)" >&2; exit 1; }
base=$(dirname "$manifest")
files=$(python3 -c 'import json,sys
for line in open(sys.argv[1]):
    if line.strip() and not line.startswith("#"): print(json.loads(line)["file"])' "$manifest")
n=$(echo "$files" | wc -l)
echo "transcribe_each: $n files with $parley $*" >&2
export parley base
# shellcheck disable=SC2016
echo "$files" | xargs -P "${JOBS:-$(nproc)}" -I{} bash -c '
  heard=$("$parley" transcribe "$base/{}" "$@" 2>/dev/null) || rc=$?
  [ "${rc:-0}" -eq 0 ] || [ "${rc:-0}" -eq 3 ] || { echo "transcribe_each: {} failed (exit $rc)" >&2; exit 255; }
  printf "%s\t%s\n" "{}" "$heard"' _ "$@" > "$out.part"
sort "$out.part" > "$out" && rm -f "$out.part"
echo "transcribe_each: wrote $out ($(wc -l < "$out") transcripts)" >&2
