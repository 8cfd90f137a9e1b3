#!/usr/bin/env bash
# Builds llama.cpp's llama-server from the pinned source that scripts/fetch_llama.sh checked out
# (third_party/llama/src) into third_party/llama/build; the binary is
#   third_party/llama/build/bin/llama-server
# The integration tests in tests/engines/llama_server/ (and the llama-server benchmarks) run it.
#
# CPU only; no HTTPS, no web UI (nothing is downloaded), no tests, examples or other tools; static
# llama/ggml libraries, so the binary does not mix with the prebuilt shared libraries in
# third_party/llama/lib. GGML_NATIVE=OFF with ggml's default x86-64 feature set (SSE4.2, AVX, AVX2,
# FMA, F16C, BMI2): the binary runs on any x86-64-v3 machine, not only on the one that built it.
#
# Idempotent: when the binary exists and was built from the same source commit with the same
# options, nothing runs (a few milliseconds); otherwise CMake configures once and Ninja rebuilds
# what changed. Jobs: $PARLEY_JOBS, else nproc.
# Options: --force (rebuild even when the stamp matches), --print-path (print the binary's path
# after building), --quick (-O1 instead of -O3: about 40 % less compile time, slower decoding; what
# the test suite asks for, as its models are tiny. A full build already there satisfies --quick;
# the benchmarks ask for the full one).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
src=$root/third_party/llama/src
build=$root/third_party/llama/build
bin=$build/bin/llama-server
stamp=$build/.parley-stamp

force=0 print_path=0 quick=0
for a in "$@"; do
  case $a in
    --force) force=1 ;;
    --print-path) print_path=1 ;;
    --quick) quick=1 ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build_server: unknown option $a" >&2; exit 2 ;;
  esac
done

if [ ! -f "$src/CMakeLists.txt" ]; then
  echo "build_server: no llama.cpp source at $src; run scripts/fetch_llama.sh first" >&2
  exit 1
fi

opts=(
  -DCMAKE_BUILD_TYPE=Release
  -DBUILD_SHARED_LIBS=OFF
  -DGGML_NATIVE=OFF
  -DGGML_CCACHE=OFF
  -DGGML_OPENMP=ON
  -DLLAMA_BUILD_TESTS=OFF
  -DLLAMA_BUILD_EXAMPLES=OFF
  -DLLAMA_BUILD_TOOLS=ON
  -DLLAMA_BUILD_SERVER=ON
  -DLLAMA_BUILD_APP=OFF
  -DLLAMA_BUILD_UI=OFF
  -DLLAMA_USE_PREBUILT_UI=OFF
  -DLLAMA_OPENSSL=OFF
  -DLLAMA_CURL=OFF
  -DLLAMA_TESTS_INSTALL=OFF
)
commit=$(git -C "$src" rev-parse HEAD 2>/dev/null || echo unknown)
# The optimisation level is always given, so a cache configured for the other one is corrected.
level=-O3
[ "$quick" = 1 ] && level=-O1
full="$commit ${opts[*]} -DCMAKE_C_FLAGS_RELEASE=-O3 -DNDEBUG -DCMAKE_CXX_FLAGS_RELEASE=-O3 -DNDEBUG"
opts+=(-DCMAKE_C_FLAGS_RELEASE="$level -DNDEBUG" -DCMAKE_CXX_FLAGS_RELEASE="$level -DNDEBUG")
want="$commit ${opts[*]}"

if [ "$force" = 0 ] && [ -x "$bin" ] && [ -f "$stamp" ] && { [ "$(cat "$stamp")" = "$want" ] || [ "$(cat "$stamp")" = "$full" ]; }; then
  echo "build_server: llama-server up to date ($bin)"
  [ "$print_path" = 1 ] && echo "$bin"
  exit 0
fi

jobs=${PARLEY_JOBS:-$(nproc)}
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
start=$(date +%s)
if [ ! -f "$build/CMakeCache.txt" ] || [ "$force" = 1 ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  # A cache from other options (or another generator) is not reused.
  if [ -f "$build/CMakeCache.txt" ] && [ -n "${gen[*]}" ] && ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$build/CMakeCache.txt"; then
    rm -rf "$build"
  fi
  echo "build_server: configuring llama.cpp ${commit:0:12} in $build"
  cmake -S "$src" -B "$build" "${gen[@]}" "${opts[@]}" -Wno-dev >"$build.configure.log" 2>&1 || {
    cat "$build.configure.log" >&2; exit 1; }
  mv "$build.configure.log" "$build/configure.log"
fi
echo "build_server: building llama-server with $jobs jobs (first build takes several minutes)"
cmake --build "$build" --target llama-server -j "$jobs"
echo "$want" >"$stamp"
echo "build_server: built $bin in $(( $(date +%s) - start )) s"
[ "$print_path" = 1 ] && echo "$bin"
exit 0
