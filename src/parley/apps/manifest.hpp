// apps/manifest — the benchmark corpus format (one JSON object per line).
//
// Each line names a WAV file (relative to the manifest's folder) with its reference text and the
// true speech timing, as ../shared/corpus/manifest.jsonl does:
//   {"id": "q01", "file": "wav/q01-flite-slt-clean.wav", "text": "what time is it",
//    "category": "intent", "voice": "flite:slt", "condition": "clean",
//    "speech_start_ms": 400, "speech_end_ms": 1130}
// Required: file, text, speech_end_ms. Blank lines and lines starting with '#' are skipped.
// A second utterance that interrupts the reply (`parley bench --barge-in`): "interrupt_file" (a
// WAV, relative like "file"), "interrupt_at_ms" (where it starts on the first file's timeline; the
// first file is cut or padded with silence to that point) and optionally "interrupt_text" (its
// transcript, for the mock recognizer).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "parley/core/error.hpp"

namespace parley::app {

struct manifest_entry {
  std::string id;
  std::filesystem::path file;  // resolved against the manifest's folder
  std::string text;            // reference transcript
  std::string category;
  std::string voice;
  std::string condition;
  double speech_start_ms = 0.0;
  double speech_end_ms = 0.0;  // true end of speech in the file
  std::filesystem::path interrupt_file;  // empty: none
  std::string interrupt_text;
  double interrupt_at_ms = 0.0;
};

/// Reads a manifest; errors name the file and line.
result<std::vector<manifest_entry>> read_manifest(const std::filesystem::path& path);

}  // namespace parley::app
