#!/usr/bin/env bash
# The 500-session load benchmark (docs/benchmarks.md, "Load: 500 concurrent WebSocket sessions").
#
# Starts `parley serve --engines mock` (ENGINES=embedded: the default stack, pocketsphinx, the
# local responder and flite, as in "Overload admission") on 127.0.0.1 (any free port), runs the load client
# (`parley bench --target`) against it — SESSIONS concurrent WebSocket sessions, each connected,
# held idle IDLE_S seconds (the server's RSS is read then: memory per idle session), then speaking
# TURNS corpus questions at real-time pace and playing the replies — and stops the server.
# Everything is overridable from the environment:
#
#   BUILD=build/release SESSIONS=500 TURNS=1 bench/load/run_load.sh
#   TRANSPORT=media-stream ...   each session a phone call on /v1/media-stream (8 kHz mu-law;
#                                docs/transports.md) instead of protocol v1 on /ws
#   TRANSPORT=realtime ...       each session speaks the OpenAI Realtime protocol on /v1/realtime
#                                (24 kHz base64 PCM16 in JSON; docs/protocol.md)
#
# Output: the client's summary on stdout; OUT_DIR (default a temp dir) keeps load.json (the
# report) and server.log. Exit status: the client's (0 = every turn answered, no error, nothing
# dropped).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build/release}
PARLEY=${PARLEY:-$BUILD/parley}
SESSIONS=${SESSIONS:-500}
TURNS=${TURNS:-1}
RAMP_MS=${RAMP_MS:-10000}
IDLE_S=${IDLE_S:-5}
DURATION_S=${DURATION_S:-90}
THREADS=${THREADS:-2}
MANIFEST=${MANIFEST-$ROOT/../shared/corpus/manifest.jsonl}   # MANIFEST= (empty): synthetic audio
ENGINES=${ENGINES:-mock}   # mock | embedded
LLM_PROFILE=${LLM_PROFILE:-cloud-fast-tier}
TTS_PROFILE=${TTS_PROFILE:-piper-cpu}
ASR_FINAL_MS=${ASR_FINAL_MS:-40}
TRANSPORT=${TRANSPORT:-ws}   # ws | media-stream | realtime
SERVER_FLAGS=${SERVER_FLAGS:-}   # e.g. "--noise-suppression -1"
CLIENT_FLAGS=${CLIENT_FLAGS:-}   # e.g. "--no-stream-silence", "--no-room-tone" (digital zeros between turns)
OUT_DIR=${OUT_DIR:-$(mktemp -d /tmp/parley-load.XXXXXX)}
mkdir -p "$OUT_DIR"

case $TRANSPORT in
  ws) TARGET_PATH=/ws ;;
  media-stream) TARGET_PATH=/v1/media-stream ;;
  realtime) TARGET_PATH=/v1/realtime ;;
  *) echo "run_load.sh: TRANSPORT must be ws, media-stream or realtime, not '$TRANSPORT'" >&2; exit 2 ;;
esac
[[ -x $PARLEY ]] || { echo "run_load.sh: no parley binary at $PARLEY (set BUILD or PARLEY)" >&2; exit 2; }
# One socket per session on each side, plus files: raise the descriptor limit if we may.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

echo "machine: $(nproc) cores · $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') · $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

case $ENGINES in
  mock) ENGINE_FLAGS=(--engines mock --llm-profile "$LLM_PROFILE" --tts-profile "$TTS_PROFILE" --asr-final-ms "$ASR_FINAL_MS"
                      --transcripts "what time is it")
        ENGINE_DESC="mock LLM $LLM_PROFILE · mock TTS $TTS_PROFILE · ASR final $ASR_FINAL_MS ms" ;;
  embedded) ENGINE_FLAGS=(); ENGINE_DESC="embedded engines" ;;
  *) echo "run_load.sh: ENGINES must be mock or embedded, not '$ENGINES'" >&2; exit 2 ;;
esac
# shellcheck disable=SC2086
"$PARLEY" serve "${ENGINE_FLAGS[@]}" --host 127.0.0.1 --port 0 --max-sessions $((SESSIONS + 100)) \
  --log-level warn $SERVER_FLAGS >"$OUT_DIR/server.log" 2>&1 &
SERVER_PID=$!
stop_server() {
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  wait "$SERVER_PID" 2>/dev/null || true
}
trap stop_server EXIT

PORT=""
for _ in $(seq 1 1200); do   # 60 s: listening first, then "ready" once the engines are loaded
  if grep -q '^ready' "$OUT_DIR/server.log" 2>/dev/null; then
    PORT=$(sed -n 's|^parley serve: http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$OUT_DIR/server.log" | head -1)
    break
  fi
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.05
done
[[ -n $PORT ]] || { echo "run_load.sh: the server did not start:" >&2; cat "$OUT_DIR/server.log" >&2; exit 4; }
echo "server: pid $SERVER_PID · port $PORT · $ENGINE_DESC $SERVER_FLAGS"

MANIFEST_FLAG=()
[[ -n $MANIFEST ]] && MANIFEST_FLAG=(--manifest "$MANIFEST")
set +e
# shellcheck disable=SC2086
"$PARLEY" bench --target "ws://127.0.0.1:$PORT$TARGET_PATH" --sessions "$SESSIONS" --turns "$TURNS" --ramp-ms "$RAMP_MS" \
  --idle-s "$IDLE_S" --duration-s "$DURATION_S" --threads "$THREADS" --server-pid "$SERVER_PID" \
  "${MANIFEST_FLAG[@]}" --json "$OUT_DIR/load.json" $CLIENT_FLAGS
STATUS=$?
set -e
stop_server
trap - EXIT
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg) · report: $OUT_DIR/load.json · server log: $OUT_DIR/server.log"
exit $STATUS
