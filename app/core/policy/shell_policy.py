"""The ``exec`` deny-list and allow-list, applied after normalising the usual evasions.

A model (or a prompt injection it read) can spell ``rm -rf`` many ways: ``r\\m``, ``'rm'``,
``r""m``, ``/bin/rm``, ``$IFS`` for spaces, ``sh -c "…"``, ``env rm``, a ``$(…)`` inside another
command. Commands are normalised (NFKC, escapes and quotes removed, lower case, whitespace
collapsed), split into segments at ``; && || | & newline $( ` ( )``, wrappers such as ``env``,
``nohup``, ``timeout``, ``xargs`` and ``sh -c`` are peeled off, and each segment's program and
arguments are checked. This is a guard against accidents and crude attacks, not a sandbox.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_SPLIT = re.compile(r"\$\(|`|&&|\|\||[;|&\n(){}]")
_ASSIGN = re.compile(r"^[a-z_][a-z0-9_]*=")
_WRAPPERS = {"env", "command", "builtin", "exec", "nohup", "time", "nice", "ionice", "stdbuf",
             "eval", "busybox", "then", "do", "else", "!", "xargs", "timeout", "watch", "strace"}
_SHELLS = {"sh", "bash", "zsh", "dash", "ksh", "ash", "fish"}
_ELEVATE = {"sudo", "su", "doas", "pkexec", "runas"}
_DISK = {"shred", "wipefs", "fdisk", "sfdisk", "parted", "diskpart", "truncate", "mkswap",
         "blkdiscard"}
_POWER = {"shutdown", "reboot", "poweroff", "halt", "telinit", "killall5"}

_WHOLE_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r">\s*/dev/(?:sd|hd|vd|xvd|nvme|mmcblk|disk)"), "writing to a raw disk device"),
    (re.compile(r"\b(?:curl|wget|fetch)\b[^|]*\|\s*(?:sudo\s+)?(?:env\s+)?"
                r"(?:ba|z|da|k|fi)?sh\b"), "piping a download into a shell"),
    (re.compile(r"\b(?:curl|wget)\b[^|]*\|\s*(?:sudo\s+)?(?:python3?|perl|ruby|node)\b"),
     "piping a download into an interpreter"),
    (re.compile(r"\bbase64\s+(?:-d|--decode|-di)\b[^|]*\|\s*(?:ba|z|da|k)?sh\b"),
     "running decoded base64 in a shell"),
    (re.compile(r"\b(?:ba|z|da|k)?sh\s*<\s*\(\s*(?:curl|wget)\b"),
     "running a download in a shell"),
    (re.compile(r"\beval\b.*\$\(\s*(?:curl|wget)\b"), "evaluating a download"),
]
_FORK_BOMB = re.compile(r"([a-z_:][a-z0-9_:]*)\(\)\{\s*\1\|\1&\s*\};?\s*\1")


def normalise(command: str) -> str:
    """The command with evasions undone, for matching only (never for running)."""
    s = unicodedata.normalize("NFKC", command)
    s = s.replace("\\\n", " ")
    s = re.sub(r"\$\{?ifs\}?", " ", s, flags=re.IGNORECASE)
    s = s.replace("\\", "")
    s = s.replace("''", "").replace('""', "")
    s = re.sub(r"['\"]", "", s)
    s = s.lower()
    return re.sub(r"[ \t\r\f\v]+", " ", s).strip()


def _peel(words: list[str]) -> list[str]:
    """Drop leading assignments and wrapper programs (``env X=1 nohup timeout 5 rm …``)."""
    while words:
        w = words[0]
        prog = w.rsplit("/", 1)[-1]
        if _ASSIGN.match(w):
            words = words[1:]
        elif prog in _WRAPPERS:
            words = words[1:]
            # Options and numeric arguments of the wrapper itself (timeout 5, nice -n 10, env -i).
            while words and (words[0].startswith("-") or re.fullmatch(r"[\d.]+[smhd]?", words[0])):
                words = words[1:]
        elif prog in _SHELLS and "-c" in words[1:3]:
            words = words[words.index("-c") + 1:]
        else:
            break
    return words


def segments(command: str) -> list[list[str]]:
    """The normalised command split into simple commands, wrappers peeled off."""
    out: list[list[str]] = []
    for part in _SPLIT.split(normalise(command)):
        words = _peel(part.split())
        if words:
            out.append(words)
    return out


def _short_flags(args: Iterable[str]) -> str:
    return "".join(a[1:] for a in args if a.startswith("-") and not a.startswith("--"))


def _segment_reason(words: list[str]) -> str:
    prog = words[0].rsplit("/", 1)[-1]
    args = words[1:]
    if prog in _ELEVATE:
        return f"{prog} (elevated privileges)"
    if prog in _DISK or prog.startswith("mkfs"):
        return f"{prog} (destroys data irrecoverably)"
    if prog in _POWER or (prog == "init" and args[:1] in (["0"], ["6"])):
        return f"{prog} (shuts down or restarts the machine)"
    if prog == "systemctl" and any(a in ("poweroff", "reboot", "halt", "suspend") for a in args):
        return "systemctl power action"
    if prog == "rm":
        flags = _short_flags(args)
        if "r" in flags or "f" in flags or any(a in ("--recursive", "--force") for a in args):
            return "rm with -r or -f (recursive or forced deletion)"
    if prog == "find" and ("-delete" in args or any(
            a in ("-exec", "-execdir", "-ok", "-okdir") and i + 1 < len(args)
            and args[i + 1].rsplit("/", 1)[-1] in ("rm", "shred", "unlink")
            for i, a in enumerate(args))):
        return "find that deletes files"
    if prog == "dd" and any(a.startswith(("if=", "of=")) for a in args):
        return "dd (raw copies can overwrite disks)"
    if prog == "chmod" and any(re.fullmatch(r"[ugoa]*\+[rwx]*s[rwx]*|0?[2-7][0-7]{3}", a)
                               for a in args):
        return "chmod setting setuid/setgid"
    if prog in ("chmod", "chown", "chgrp") and "/" in args and ("r" in _short_flags(args)
                                                                 or "--recursive" in args):
        return f"recursive {prog} of /"
    if prog in ("kill", "pkill") and "-1" in args:
        return "killing every process"
    if prog in ("del", "erase") and any(a in ("/f", "/s", "/q") for a in args):
        return f"{prog} with /f, /s or /q"
    if prog in ("rmdir", "rd") and "/s" in args:
        return f"{prog} /s (recursive deletion)"
    if prog == "format" and any(re.fullmatch(r"[a-z]:", a) for a in args):
        return "formatting a drive"
    return ""


def deny_reason(command: str, extra_patterns: Iterable[str] = (), *, builtin: bool = True) -> str:
    """Why ``command`` is refused ("" when it is not on the deny-list). ``builtin=False`` checks
    only the configured patterns."""
    norm = normalise(command)
    if builtin:
        if _FORK_BOMB.search(norm.replace(" ", "")):
            return "a fork bomb"
        for rx, why in _WHOLE_RULES:
            if rx.search(norm):
                return why
        for words in segments(command):
            why = _segment_reason(words)
            if why:
                return why
    for pattern in extra_patterns:
        try:
            if re.search(pattern, norm):
                return f"matches the configured deny pattern {pattern!r}"
        except re.error:
            continue  # config validation reports bad patterns; a bad one never blocks everything
    return ""


def allowed_by(command: str, allow: Iterable[str]) -> bool:
    """True when every simple command in ``command`` starts with an allow-list entry
    (``"pytest"``, ``"git status"``, ``"python"``): ``ls; rm x`` is not allowed by ``ls``."""
    entries = [e.split() for e in (normalise(a) for a in allow) if e]
    segs = segments(command)
    if not segs or not entries:
        return False
    return all(any(words[: len(e)] == e or (words[0].rsplit("/", 1)[-1] == e[0]
                                            and words[1: len(e)] == e[1:])
                   for e in entries) for words in segs)


def programs(command: str) -> list[str]:
    """The programs a command runs (for "allow for this session" keys and labels)."""
    return sorted({words[0].rsplit("/", 1)[-1] for words in segments(command)})
