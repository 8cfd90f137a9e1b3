#!/usr/bin/env bash
# Builds and runs the libFuzzer targets for what parley decodes from the network, with
# clang++ -fsanitize=fuzzer,address,undefined, each for a bounded time:
#   protocol  the protocol v1 decoder: JSON events and PCM frames (fuzz/protocol_fuzz.cpp)
#   opus      Opus packets through libopus, and the encoder's packets back (fuzz/opus_fuzz.cpp)
#   media_stream  the telephone media-stream decoder and μ-law (fuzz/media_stream_fuzz.cpp)
#   realtime  the OpenAI Realtime protocol decoder: JSON events, base64 audio (fuzz/realtime_fuzz.cpp)
#   multipart  the multipart/form-data parser of HTTP uploads (fuzz/multipart_fuzz.cpp)
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     (default 60 s each, every target; CI: 20 s each)
# Exit status: 0 when nothing was found; libFuzzer's non-zero status and a crash-* file in
# build/fuzz/ otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(protocol opus media_stream realtime multipart)
if ! command -v clang++ >/dev/null; then
  echo "scripts/fuzz.sh needs clang++ (libFuzzer ships with it): apt-get install clang" >&2
  exit 2
fi
out="build/fuzz"
mkdir -p "$out"

# fuzz TARGET SOURCES... [-- LIBS...]: builds build/fuzz/TARGET_fuzz when a source is newer, then runs it.
fuzz() {
  local name=$1
  shift
  local sources=() libs=()
  while [[ $# -gt 0 && $1 != -- ]]; do sources+=("$1"); shift; done
  [[ $# -gt 0 ]] && shift && libs=("$@")
  local bin="$out/${name}_fuzz" rebuild=0
  [[ -x $bin ]] || rebuild=1
  for s in "${sources[@]}" src/parley/net/*.hpp; do [[ $s -nt $bin ]] && rebuild=1; done
  if [[ $rebuild -eq 1 ]]; then
    echo "building $bin"
    clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
      -Isrc "${sources[@]}" -o "$bin" "${libs[@]}"
  fi
  local corpus="$out/corpus-$name" extra=()
  mkdir -p "$corpus"
  [[ -d fuzz/corpus/$name ]] && cp -n "fuzz/corpus/$name"/* "$corpus/" 2>/dev/null || true
  [[ -f fuzz/$name.dict ]] && extra+=("-dict=fuzz/$name.dict")
  echo "fuzzing $name for ${seconds} s"
  "$bin" "$corpus" "${extra[@]}" -max_total_time="$seconds" -max_len=8192 -timeout=5 \
    -artifact_prefix="$out/$name-" -print_final_stats=1
}

for target in "${targets[@]}"; do
  case $target in
    protocol) fuzz protocol fuzz/protocol_fuzz.cpp src/parley/net/protocol.cpp ;;
    opus) fuzz opus fuzz/opus_fuzz.cpp src/parley/net/opus_codec.cpp src/parley/net/protocol.cpp -- $(pkg-config --cflags --libs opus) ;;
    media_stream) fuzz media_stream fuzz/media_stream_fuzz.cpp src/parley/net/media_stream.cpp src/parley/net/base64.cpp ;;
    realtime) fuzz realtime fuzz/realtime_fuzz.cpp src/parley/net/realtime_protocol.cpp src/parley/net/protocol.cpp \
                src/parley/net/media_stream.cpp src/parley/net/base64.cpp ;;
    multipart) fuzz multipart fuzz/multipart_fuzz.cpp src/parley/net/multipart.cpp src/parley/core/error.cpp ;;
    *) echo "scripts/fuzz.sh: unknown target '$target' (protocol, opus, media_stream, realtime, multipart)" >&2; exit 2 ;;
  esac
done
