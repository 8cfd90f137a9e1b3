#!/usr/bin/env bash
# Installs every Debian package parley needs to build, test and run. Idempotent: when everything
# is already installed it says so in one line and touches nothing.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build pkg-config git
  # libraries
  libboost1.81-dev nlohmann-json3-dev libcli11-dev libsndfile1-dev libsoxr-dev
  libwebrtc-audio-processing-dev
  # embedded offline engines: ASR model, TTS voices
  libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us flite1-dev libespeak-ng-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev clang libclang-rt-14-dev
  # response cache shared tier and HTTPS providers
  libhiredis-dev redis-server libssl-dev
  # speech tools used to make test audio
  flite espeak-ng sox
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${#missing[@]} package(s): ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
