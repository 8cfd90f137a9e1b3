#!/usr/bin/env bash
# The LLM benchmark of docs/benchmarks.md: KV reuse on the embedded llama.cpp model, and the same
# model behind llama-server, side by side in one run (bench/llm/llm_bench.cpp).
#   bench/llm/run_llm_bench.sh [REPS] [extra parley_llm_bench flags...]
# Needs the release build (cmake --preset release && cmake --build --preset release) and
# scripts/llama/build_server.sh. The model is the random-weight "small" one (make_model.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
reps=${1:-10}
shift || true
build=${PARLEY_BUILD:-build/release}  # any build of parley; llama.cpp itself is the prebuilt library
bench=$build/bench/llm/parley_llm_bench
server=third_party/llama/build/bin/llama-server
model=$build/bench-models/small.gguf
for f in "$bench" "$server"; do
  [ -x "$f" ] || { echo "run_llm_bench: $f is missing (see the header of this script)" >&2; exit 1; }
done
if [ ! -f "$model" ]; then
  mkdir -p "$(dirname "$model")"
  /usr/bin/python3 scripts/llama/make_model.py --size small --out "$model"
fi
threads=$(nproc)
log=$(mktemp)
"$server" -m "$model" --host 127.0.0.1 --port 0 -t "$threads" -c 4096 -np 1 --no-webui >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
port=""
for _ in $(seq 1 600); do  # up to 60 s for the model to load
  port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$log" | head -n 1 | sed 's/.*://' || true)
  if [ -n "$port" ] && curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1; then break; fi
  sleep 0.1
done
[ -n "$port" ] || { echo "run_llm_bench: llama-server did not start:" >&2; tail -n 20 "$log" >&2; exit 1; }
echo "llama-server on 127.0.0.1:$port (pid $pid, $threads threads)"
"$bench" --model "$model" --server-url "http://127.0.0.1:$port/v1" --reps "$reps" --threads "$threads" \
  --out "$build/llm_bench.md" "$@"
