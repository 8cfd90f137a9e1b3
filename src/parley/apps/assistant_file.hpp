// apps/assistant_file — one TOML file that describes an assistant: who it is (name, persona,
// greeting, voice), what it knows (the FAQ file), which LLMs answer what it cannot and the HTTP
// tools they may call, caching and privacy, and its latency behaviour (turn-taking preset,
// budgets, fillers).
//
// Role: `parley run|serve|bench|doctor --assistant FILE` reads the file once at start-up into the
// same option structs the command-line flags fill; flags given on the command line override it.
// Nothing per turn reads TOML. Every key lives in one table (assistant_file.cpp), which also
// writes the commented example (`parley init`) and the key reference of docs/configuration.md
// (`parley init --keys`), so the three cannot drift apart.
// Errors: a missing file, a TOML syntax error, an unknown table or key, a wrong type or a value out
// of range is refused with the file, line and key named.
// Relative paths in the file (the FAQ, a local model) are relative to the file's directory.
//
//   engine_choice engines;
//   pipeline_flags pipeline;
//   if (auto s = load_assistant_file("examples/assistants/store.toml", engines, pipeline); !s) ...
#pragma once

#include <string>

#include "parley/apps/commands.hpp"
#include "parley/core/error.hpp"

namespace parley::app {

/// Reads `path` into `engines` and `pipeline` (only the keys the file sets change them).
status load_assistant_file(const std::string& path, engine_choice& engines, pipeline_flags& pipeline);

/// A complete assistant file with every key at its default, each explained in a comment.
std::string example_assistant_file();

/// The key reference as a Markdown table (docs/configuration.md, "The assistant file").
std::string assistant_keys_markdown();

/// The value of `--assistant FILE` / `--assistant=FILE` in argv (after the command word), or "".
std::string assistant_file_argument(int argc, const char* const* argv);

}  // namespace parley::app
