// CLI11 helpers shared by the parley command line and the load generator's flags.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace parley::app {

/// A switch as two flags, --NAME and --no-NAME, with the default named in words. (CLI11's own
/// rendering of a negated flag, "--NAME,--no-NAME{false}", reads as if the default were off.)
inline void add_on_off_flag(CLI::App& cmd, const std::string& name, bool& value, const std::string& what) {
  cmd.add_flag("--" + name, value, what + " (default: " + (value ? "on" : "off") + ")");
  cmd.add_flag_callback("--no-" + name, [&value] { value = false; }, "turn --" + name + " off");
}

}  // namespace parley::app
