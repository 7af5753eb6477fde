"""Options and subcommands that make an allowed program do more than its allow entry says.

An allow entry such as ``pytest`` or ``git status`` is meant for the ordinary use of that program.
Some options turn it into something else: ``pytest --basetemp=DIR`` deletes DIR first,
``--junitxml=PATH`` writes anywhere, ``-p MOD`` imports code; ``git -c``/``--config-env`` set
configuration that runs programs (``core.fsmonitor``, ``core.pager``); ``find -exec`` runs
commands; ``sort -o`` writes. A command using one of them is asked about, whatever the allow-list
says. Long options also match by prefix, as getopt_long and git accept ``--outp=FILE`` for
``--output`` (pytest does not, so its options match exactly); an argument naming a file of more
arguments (pytest's ``@file``) counts as configuration.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

WRITES = "writes files"
RUNS = "runs other programs or code"
CONFIG = "changes the program's configuration"
INLINE = "runs code given on the command line"
DELETES = "deletes files"

_GIT = {
    "-c": CONFIG, "--config-env": CONFIG, "--exec-path": RUNS, "-C": "runs in another directory",
    "--git-dir": CONFIG, "--work-tree": CONFIG, "--namespace": CONFIG, "--super-prefix": CONFIG,
    "--output": WRITES, "--output-directory": WRITES, "--ext-diff": RUNS, "--textconv": RUNS,
    "--open-files-in-pager": RUNS, "-O": RUNS, "--upload-pack": RUNS, "--receive-pack": RUNS,
    "--exec": RUNS, "--template": RUNS, "--tool": RUNS, "--extcmd": RUNS,
}
_PYTEST = {
    "--basetemp": DELETES, "--junitxml": WRITES, "--junit-xml": WRITES, "--resultlog": WRITES,
    "--result-log": WRITES, "--log-file": WRITES, "--debug": WRITES, "--html": WRITES,
    "--json-report-file": WRITES, "--cov-report": WRITES, "-p": RUNS, "--pdbcls": RUNS,
    "-c": CONFIG, "--config-file": CONFIG, "--rootdir": CONFIG, "--confcutdir": CONFIG,
    "-o": CONFIG, "--override-ini": CONFIG, "--pastebin": "uploads test output",
}
_INTERP = {"-c": INLINE}
EFFECTS: dict[str, dict[str, str]] = {
    "git": _GIT,
    "pytest": _PYTEST,
    "python": _INTERP, "pypy": _INTERP,
    "perl": {"-e": INLINE, "-E": INLINE, "-i": WRITES},
    "ruby": {"-e": INLINE, "-i": WRITES}, "node": {"-e": INLINE, "--eval": INLINE, "-p": INLINE,
                                                   "--print": INLINE, "-r": RUNS, "--require": RUNS},
    "php": {"-r": INLINE}, "lua": {"-e": INLINE},
    "sh": {"-c": INLINE}, "bash": {"-c": INLINE}, "zsh": {"-c": INLINE}, "dash": {"-c": INLINE},
    "sed": {"-i": WRITES, "--in-place": WRITES, "-e": INLINE, "--expression": INLINE,
            "-f": RUNS, "--file": RUNS},
    "awk": {"-f": RUNS, "-v": CONFIG}, "gawk": {"-f": RUNS, "-i": RUNS},
    "find": {"-exec": RUNS, "-execdir": RUNS, "-ok": RUNS, "-okdir": RUNS, "-delete": DELETES,
             "-fprint": WRITES, "-fprint0": WRITES, "-fprintf": WRITES, "-fls": WRITES},
    "rg": {"--pre": RUNS, "--pre-glob": RUNS, "-z": RUNS, "--search-zip": RUNS},
    "sort": {"-o": WRITES, "--output": WRITES, "--compress-program": RUNS},
    "tar": {"--to-command": RUNS, "-I": RUNS, "--use-compress-program": RUNS,
            "--checkpoint-action": RUNS, "--info-script": RUNS, "--new-volume-script": RUNS,
            "-F": RUNS},
    "make": {"-f": CONFIG, "--file": CONFIG, "--makefile": CONFIG, "-C": "runs in another directory",
             "--directory": "runs in another directory", "--eval": INLINE, "-E": INLINE},
    "go": {"-exec": RUNS, "-toolexec": RUNS, "-o": WRITES, "-modfile": CONFIG},
    "cargo": {"--config": CONFIG, "-Z": CONFIG, "--manifest-path": CONFIG},
    "npm": {"--prefix": CONFIG, "--userconfig": CONFIG, "--globalconfig": CONFIG, "-g": WRITES,
            "--global": WRITES},
    "pip": {"--target": WRITES, "-t": WRITES, "--prefix": WRITES, "--root": WRITES,
            "--user": WRITES, "--src": WRITES, "-e": RUNS, "--editable": RUNS},
    "curl": {"-o": WRITES, "--output": WRITES, "-O": WRITES, "--remote-name": WRITES,
             "-K": CONFIG, "--config": CONFIG, "-T": "uploads files", "--upload-file":
             "uploads files", "-F": "uploads files", "--form": "uploads files",
             "-d": "sends data", "--data": "sends data", "--data-binary": "sends data",
             "-c": WRITES, "--cookie-jar": WRITES, "-D": WRITES, "--dump-header": WRITES},
    "wget": {"-O": WRITES, "--output-document": WRITES, "-o": WRITES, "-P": WRITES,
             "--post-file": "uploads files", "--body-file": "uploads files", "-e": CONFIG,
             "--execute": CONFIG, "-i": CONFIG, "--input-file": CONFIG},
    "less": {"-o": WRITES, "--log-file": WRITES, "-O": WRITES},
    "diff": {"--to-file": CONFIG}, "cp": {}, "mv": {}, "tee": {},
    "docker": {"-v": "mounts host paths", "--volume": "mounts host paths",
               "--mount": "mounts host paths", "--privileged": "grants host access",
               "--pid": "grants host access", "--network": "changes networking"},
}
# Subcommands that reach beyond the entry's ordinary use.
SUBCOMMANDS: dict[str, dict[str, str]] = {
    "git": {"config": "changes git configuration (which can make git run programs)",
            "credential": "reveals stored credentials", "daemon": "starts a server",
            "instaweb": "starts a server", "difftool": RUNS, "mergetool": RUNS,
            "filter-branch": RUNS, "send-email": "sends email", "submodule": RUNS,
            "bisect": RUNS, "rebase": RUNS, "archive": WRITES, "bundle": WRITES,
            "worktree": WRITES, "clean": DELETES, "gc": DELETES, "prune": DELETES,
            "hook": RUNS, "alias": CONFIG},
    "pip": {"install": "installs packages (which runs their setup code)",
            "uninstall": DELETES, "download": WRITES, "wheel": WRITES, "config": CONFIG},
    "npm": {"install": RUNS, "i": RUNS, "ci": RUNS, "exec": RUNS, "x": RUNS, "run": RUNS,
            "run-script": RUNS, "publish": "publishes packages", "config": CONFIG},
}


def canonical(name: str) -> str:
    """``python3.11`` → ``python``, ``py.test`` → ``pytest``."""
    name = name.lower()
    if name in ("py.test",):
        return "pytest"
    m = re.match(r"(python|pypy|perl|ruby|php|lua|node)[0-9.]*\Z", name)
    return m.group(1) if m else name


# Programs whose option parser takes no abbreviations.
_EXACT_LONG = {"pytest"}
# Programs that read more arguments from ``@file``.
_FROM_FILE = {"pytest"}


def _option_effect(arg: str, table: dict[str, str], exact: bool = False) -> str:
    if arg.startswith("--"):
        name = arg.split("=", 1)[0]
        for opt, what in table.items():
            if opt.startswith("--") and (opt == name or (not exact and len(name) >= 4
                                                         and opt.startswith(name))):
                return what
        return ""
    if not arg.startswith("-") or arg == "-":
        return ""
    for opt, what in table.items():
        if opt.startswith("--"):
            continue
        if len(opt) > 2:  # single-dash long options (find -exec, go -toolexec)
            if arg == opt or arg.startswith(opt + "="):
                return what
        elif arg[1:2] == opt[1] or (re.fullmatch(r"-[A-Za-z]+", arg) and opt[1] in arg[1:]):
            return what
    return ""


def effect(program: str, args: Sequence[str]) -> str:
    """What an option or subcommand in ``args`` does beyond ordinary use ("" when nothing is
    known): e.g. ``"--basetemp deletes files"``."""
    name = canonical(program)
    table = EFFECTS.get(name, {})
    subs = SUBCOMMANDS.get(name, {})
    seen_operand = False
    for i, arg in enumerate(args):
        if arg == "--":
            break
        what = _option_effect(arg, table, name in _EXACT_LONG)
        if what:
            return f"{arg.split('=', 1)[0]} {what}"
        if name in _FROM_FILE and arg.startswith("@"):
            return f"{arg} reads more arguments from a file"
        if name in ("python", "pypy") and arg == "-m" and i + 1 < len(args):
            inner = effect(args[i + 1], args[i + 2:])
            return f"-m {args[i + 1]}: {inner}" if inner else ""
        if not arg.startswith("-") and not seen_operand:
            seen_operand = True
            if arg in subs:
                return f"{arg} {subs[arg]}"
    return ""
