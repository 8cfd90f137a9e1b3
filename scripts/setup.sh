#!/usr/bin/env bash
# Installs every Debian package parley needs to build, test and run. Idempotent: when everything
# is already installed it says so in one line and touches nothing.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build pkg-config git lld
  # libraries
  libboost1.81-dev nlohmann-json3-dev libcli11-dev libtomlplusplus-dev libsndfile1-dev libsoxr-dev
  libwebrtc-audio-processing-dev
  libjwt-dev libopus-dev prometheus-cpp-dev
  # embedded offline engines: ASR model, TTS voices
  libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us flite1-dev libespeak-ng-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev clang libclang-rt-14-dev
  # response cache shared tier and HTTPS providers
  libhiredis-dev redis-server libssl-dev
  # speech tools used to make test audio
  flite espeak-ng sox
  # llama.cpp: fetched from npm (scripts/fetch_llama.sh); tiny test models are written with gguf-py
  python3-numpy
  # browser tests (tests/browser): Debian's Chromium driven by playwright-core, and Firefox ESR
  # driven by puppeteer-core over WebDriver BiDi
  chromium firefox-esr
)

# Node.js and npm: the machine's own when present, Debian's otherwise.
if ! command -v npm >/dev/null 2>&1; then packages+=(nodejs npm); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

install_packages() {
echo "setup: installing ${#missing[@]} package(s): ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
}

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
else
  install_packages
fi

cd "$(dirname "$0")/.."
./scripts/fetch_llama.sh
# The node packages of the tests (npm ci, when the lock file is newer than what is installed):
# tests/browser (playwright-core, puppeteer-core) and tests/openai (the official openai client).
for dir in tests/browser tests/openai; do
  if [ -f "$dir/package-lock.json" ] && { [ ! -f "$dir/node_modules/.package-lock.json" ] ||
       [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; }; then
    echo "setup: installing the test packages of $dir (npm ci)"
    (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --silent)
  fi
done
