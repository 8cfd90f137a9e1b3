#!/usr/bin/env python3
"""Checks docs/configuration.md against the parley binary: every flag a command's table names
exists in that command's --help, and every plain default the table states (a number or a word)
is the default --help prints. Usage: check_flags.py PARLEY_BINARY CONFIGURATION_MD"""
import re
import subprocess
import sys

# The sections of configuration.md that document commands, and the commands each one covers
# (a flag of a section shared by several commands must exist in each of them).
SECTIONS = [
    (r"^## `parley run", ["run"]),
    (r"^## `parley bench", ["bench"]),
    (r"^### `parley bench --target", ["bench"]),
    (r"^## `parley serve`", ["serve"]),
    (r"^## `parley say`", None),  # each flag in at least one of say, transcribe, doctor
    (r"^## Engine flags", ["run", "bench", "serve"]),
]
SMALL_COMMANDS = ["say", "transcribe", "doctor"]


def help_flags(parley, command):
    """{flag name: default or None} from `parley COMMAND --help`."""
    out = subprocess.run([parley, command, "--help"], capture_output=True, text=True, check=True).stdout
    flags = {}
    for line in out.splitlines():
        if not re.match(r"^\s{2}-", line):
            continue
        signature = re.split(r"\s{2,}", line.strip())[0]
        names, _, rest = signature.partition(" ")
        # (a signature as wide as its column runs into the description with a single space)
        default = rest.rsplit("=", 1)[1].split(" ")[0] if "=" in rest else None
        for name in names.split(","):
            if name.startswith("--"):
                flags[name] = default
    return flags


def same_default(documented, printed):
    try:
        return float(documented) == float(printed)
    except ValueError:
        return documented == printed


def main():
    parley, doc_path = sys.argv[1], sys.argv[2]
    helps = {c: help_flags(parley, c) for c in ["run", "bench", "serve"] + SMALL_COMMANDS}
    problems, checked_flags, checked_defaults = [], 0, 0
    commands, section = None, ""
    for number, line in enumerate(open(doc_path, encoding="utf-8"), 1):
        if line.startswith("#"):
            commands, section = "skip", line.strip()
            for pattern, covered in SECTIONS:
                if re.match(pattern, line):
                    commands = covered
            continue
        if commands == "skip" or not line.startswith("|") or line.startswith("|---"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or cells[0] == "flag":
            continue
        flags = re.findall(r"--[a-z0-9][a-z0-9-]*", cells[0])
        if not flags:
            continue
        where = f"{doc_path}:{number} ({section})"
        for flag in flags:
            checked_flags += 1
            if commands is None:
                if not any(flag in helps[c] for c in SMALL_COMMANDS):
                    problems.append(f"{where}: {flag} is not a flag of {', '.join(SMALL_COMMANDS)}")
                continue
            for command in commands:
                if flag not in helps[command]:
                    problems.append(f"{where}: {flag} is not a flag of `parley {command}`")
        # A default is comparable when the row documents one flag (with its --no- twin) and the
        # default cell is one plain token.
        main_flags = [f for f in flags if not f.startswith("--no-")]
        documented = cells[1].replace("`", "").strip()
        if len(main_flags) != 1 or not re.fullmatch(r"[\w.:-]+", documented) or commands is None:
            continue
        for command in commands:
            printed = helps[command].get(main_flags[0])
            if printed is None:
                continue
            checked_defaults += 1
            if not same_default(documented, printed):
                problems.append(f"{where}: {main_flags[0]} is documented with default {documented!r}, "
                                f"`parley {command} --help` says {printed!r}")
    for p in problems:
        print(p)
    print(f"checked {checked_flags} documented flags and {checked_defaults} defaults: "
          f"{len(problems)} disagreement(s)")
    return 1 if problems or checked_flags < 50 else 0


if __name__ == "__main__":
    sys.exit(main())
