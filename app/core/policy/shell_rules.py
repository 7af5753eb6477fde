"""The built-in deny-list: commands that are refused whoever allows them.

Rules judge one simple command at a time (its program and arguments, after the parser and the
wrapper unwrapping found it), so ``timeout 5 rm -rf x``, ``eval "rm -rf x"`` and ``$(echo) ; rm -rf
x`` meet the same rule as ``rm -rf x``. The deny-list is a guard rail against accidents and crude
attacks, not a sandbox: a program allowed to run code (python, perl, make, a test runner) can do
anything its user can.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

ELEVATE = {"sudo", "su", "doas", "pkexec", "runas", "run0"}
_DISK = {"shred", "wipefs", "fdisk", "sfdisk", "parted", "diskpart", "truncate", "mkswap",
         "blkdiscard", "cfdisk", "sgdisk"}
_POWER = {"shutdown", "reboot", "poweroff", "halt", "telinit", "killall5"}
# Programs whose danger depends on their arguments: when some arrive only at run time
# (``… | xargs rm``), the rule cannot be judged.
FLAG_SENSITIVE = {"rm", "find", "dd", "chmod", "chown", "chgrp", "kill", "pkill", "systemctl",
                  "init", "rmdir", "rd", "del", "erase", "format", "git"}
RAW_DISK = re.compile(r"/dev/(?:sd|hd|vd|xvd|nvme|mmcblk|disk|dm-|mapper/|md\d|loop)")
FORK_BOMB = re.compile(r"([a-z_:][a-z0-9_:]*)\(\)\{\s*\1\|\1&\s*\};?\s*\1")


def program_name(word: str) -> str:
    """``/usr/bin/RM`` → ``rm``; fullwidth and other compatibility forms folded."""
    return unicodedata.normalize("NFKC", word).rsplit("/", 1)[-1].lower()


def _short_flags(args: Iterable[str]) -> str:
    return "".join(a[1:] for a in args if a.startswith("-") and not a.startswith("--"))


def command_reason(argv: Sequence[str]) -> str:
    """Why this one command is refused ("" when the deny-list has nothing against it)."""
    if not argv:
        return ""
    prog = program_name(argv[0])
    args = [unicodedata.normalize("NFKC", a) for a in argv[1:]]
    low = [a.lower() for a in args]
    if prog in ELEVATE:
        return f"{prog} (elevated privileges)"
    if prog in _DISK or prog.startswith("mkfs"):
        return f"{prog} (destroys data irrecoverably)"
    if prog in _POWER or (prog == "init" and args[:1] in (["0"], ["6"])):
        return f"{prog} (shuts down or restarts the machine)"
    if prog == "systemctl" and any(a in ("poweroff", "reboot", "halt", "suspend", "kexec")
                                   for a in low):
        return "systemctl power action"
    if prog == "rm":
        flags = _short_flags(a for a in args if a != "--")
        if ("r" in flags.lower() or "f" in flags or
                any(a.startswith(("--recursive", "--force", "--rec", "--for")) for a in low)):
            return "rm with -r or -f (recursive or forced deletion)"
    if prog == "find" and ("-delete" in args or any(
            a in ("-exec", "-execdir", "-ok", "-okdir") and i + 1 < len(args)
            and program_name(args[i + 1]) in ("rm", "shred", "unlink", "rmdir")
            for i, a in enumerate(args))):
        return "find that deletes files"
    if prog == "dd" and any(a.startswith(("if=", "of=")) for a in low):
        return "dd (raw copies can overwrite disks)"
    if prog == "chmod" and any(re.fullmatch(r"[ugoa]*\+[rwxX]*s[rwxXt]*|0?[2-7][0-7]{3}", a)
                               for a in args):
        return "chmod setting setuid/setgid"
    if prog in ("chmod", "chown", "chgrp") and "/" in args and (
            "r" in _short_flags(args).lower() or "--recursive" in low):
        return f"recursive {prog} of /"
    if prog in ("kill", "pkill") and "-1" in args:
        return "killing every process"
    if prog in ("del", "erase") and any(a in ("/f", "/s", "/q") for a in low):
        return f"{prog} with /f, /s or /q"
    if prog in ("rmdir", "rd") and "/s" in low:
        return f"{prog} /s (recursive deletion)"
    if prog == "format" and any(re.fullmatch(r"[a-z]:", a) for a in low):
        return "formatting a drive"
    if prog in ("cp", "tee", "mv", "install") and any(RAW_DISK.match(a) for a in args):
        return "writing to a raw disk device"
    return ""


# The normaliser below only feeds the configured patterns and the fallback scan used when the
# parser gives up: it is for matching, never for running.
_SPLIT = re.compile(r"\$\(|`|&&|\|\||[;|&\n(){}]")


def normalise(command: str) -> str:
    """The command with common evasions undone (NFKC, escapes and quotes dropped, lower case)."""
    s = unicodedata.normalize("NFKC", command)
    s = s.replace("\\\n", " ")
    s = re.sub(r"\$\{?ifs\}?", " ", s, flags=re.IGNORECASE)
    s = s.replace("\\", "").replace("''", "").replace('""', "")
    s = re.sub(r"['\"]", "", s).lower()
    return re.sub(r"[ \t\r\f\v]+", " ", s).strip()


def rough_segments(command: str) -> list[list[str]]:
    """Word lists split at every separator: for the fallback scan of unparseable commands."""
    out: list[list[str]] = []
    for part in _SPLIT.split(normalise(command)):
        words = part.split()
        while words and (re.match(r"^[a-z_][a-z0-9_]*=", words[0]) or program_name(words[0]) in
                         ("env", "nohup", "timeout", "nice", "setsid", "xargs", "exec",
                          "command", "builtin", "eval", "then", "do", "else", "!", "time")):
            words = words[1:]
            while words and (words[0].startswith("-") or re.fullmatch(r"[\d.]+[smhd]?",
                                                                      words[0])):
                words = words[1:]
        if words and program_name(words[0]) in ("sh", "bash", "dash", "zsh") and "-c" in words:
            words = words[words.index("-c") + 1:]
        if words:
            out.append(words)
    return out


def whole_reason(command: str) -> str:
    """Shapes judged on the whole text: a fork bomb."""
    if FORK_BOMB.search(normalise(command).replace(" ", "")):
        return "a fork bomb"
    return ""
