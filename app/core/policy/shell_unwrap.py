"""What a wrapper runs: the command inside ``env``, ``timeout``, ``nice``, ``xargs``, ``find -exec``,
``sh -c``, ``eval`` and their kin.

Each wrapper's options are read with their real arity (``timeout -s KILL 5 rm …`` runs ``rm``;
GNU ``env -S`` splits its string at ``\\_`` as ``env`` itself does), so the deny-list sees the
command that would run. An option a strict wrapper does not have means "cannot tell which
program runs", which the caller turns into a question.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

# An argument: its text (best effort), whether it is known exactly, and the programs run by
# substitutions inside it (for "evaluating a download").
Arg = tuple[str, bool, tuple[str, ...]]

SHELLS = {"sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish", "rbash", "yash", "busybox"}
_INTERPRETER = re.compile(r"(python|pypy|perl|ruby|php|lua|tclsh|node|nodejs|deno|bun|rscript|"
                          r"pwsh|powershell|osascript|irb|luajit|jshell|guile|racket|julia)"
                          r"[0-9.]*\Z")
DOWNLOADERS = {"curl", "wget", "fetch", "aria2c", "http", "https", "lwp-request", "GET"}


def is_interpreter(name: str) -> bool:
    return bool(_INTERPRETER.match(name))


@dataclass(frozen=True)
class Spec:
    """A wrapper's command line: options taking a value, options without, operands before the
    command, options that mean it runs no command at all, options whose value is shell code."""

    with_arg: frozenset[str] = frozenset()
    flags: frozenset[str] = frozenset()
    before: int = 0  # operands before the command (timeout's DURATION, chroot's NEWROOT)
    no_command: frozenset[str] = frozenset()  # e.g. command -v, taskset -p
    script_opt: frozenset[str] = frozenset()  # e.g. flock -c 'cmd'
    strict: bool = True  # an unknown option: cannot tell where the command starts
    numeric_flag: bool = False  # nice -10
    extra_unknown: bool = False  # xargs: more arguments arrive at run time
    joined_script: bool = False  # watch: the arguments are joined and run by sh -c


def _s(words: str) -> frozenset[str]:
    return frozenset(words.split())


WRAPPERS: dict[str, Spec] = {
    "nohup": Spec(),
    "builtin": Spec(),
    "catchsegv": Spec(),
    "setsid": Spec(flags=_s("c f w ctty fork wait")),
    "nice": Spec(with_arg=_s("n adjustment"), numeric_flag=True),
    "ionice": Spec(with_arg=_s("c n class classdata"), flags=_s("t ignore"),
                   no_command=_s("p P u pid pgid uid")),
    "timeout": Spec(with_arg=_s("s k signal kill-after"),
                    flags=_s("preserve-status foreground v verbose"), before=1),
    "stdbuf": Spec(with_arg=_s("i o e input output error")),
    "time": Spec(with_arg=_s("f o format output"),
                 flags=_s("p a v q portability append verbose quiet")),
    "command": Spec(flags=_s("p"), no_command=_s("v V")),
    "exec": Spec(with_arg=_s("a"), flags=_s("c l")),
    "chroot": Spec(with_arg=_s("userspec groups"), flags=_s("skip-chdir"), before=1),
    "taskset": Spec(flags=_s("a c all-tasks cpu-list"), no_command=_s("p pid"), before=1),
    "flock": Spec(with_arg=_s("w E timeout conflict-exit-code"),
                  flags=_s("s x u n o F e shared exclusive unlock nonblock nb close no-fork "
                           "verbose"), script_opt=_s("c command"), before=1),
    "xargs": Spec(with_arg=_s("a d E I L n P s arg-file delimiter max-lines max-args max-procs "
                              "max-chars process-slot-var eof replace"),
                  flags=_s("0 r t p x o e i l null no-run-if-empty verbose interactive exit "
                           "open-tty"), extra_unknown=True),
    "watch": Spec(with_arg=_s("n d interval differences"),
                  flags=_s("t b e g c x p w r q no-title beep errexit chgexit color exec "
                           "precise no-wrap no-rerun equexit"), joined_script=True),
    "strace": Spec(with_arg=_s("o e p s u E a b I O S P X"), strict=False),
    "ltrace": Spec(with_arg=_s("o e p s u E a n l"), strict=False),
    "unbuffer": Spec(flags=_s("p")),
    "chronic": Spec(flags=_s("e v")),
    "fakeroot": Spec(with_arg=_s("l s i b faked"), flags=_s("u")),
    "dbus-run-session": Spec(with_arg=_s("config-file dbus-daemon")),
    "prlimit": Spec(strict=False, no_command=_s("p pid")),
    "numactl": Spec(strict=False),
    "unshare": Spec(strict=False),
    "nsenter": Spec(with_arg=_s("t target"), strict=False),
    "systemd-run": Spec(with_arg=_s("p u unit property slice description"), strict=False),
    "firejail": Spec(strict=False),
    "proot": Spec(with_arg=_s("r b w"), strict=False),
    "caffeinate": Spec(with_arg=_s("t w"), flags=_s("d i m s u")),
}


@dataclass
class Unwrapped:
    commands: list[tuple[list[Arg], bool, str]] = field(default_factory=list)  # args, extra, via
    scripts: list[tuple[Arg, str]] = field(default_factory=list)  # shell code to parse, via
    unsure: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)


def _option_name(arg: str) -> tuple[str, str | None]:
    """``--name=value`` → (name, value); ``-x`` → ("x", None); ``-xVALUE`` → ("x", "VALUE")."""
    if arg.startswith("--"):
        name, eq, value = arg[2:].partition("=")
        return name, (value if eq else None)
    return arg[1:2], (arg[2:] or None)


def unwrap_spec(name: str, spec: Spec, args: Sequence[Arg], out: Unwrapped) -> None:
    i = 1
    while i < len(args):
        text, known, _ = args[i]
        if text == "--":
            i += 1
            break
        if not text.startswith("-") or text == "-":
            break
        if spec.numeric_flag and re.fullmatch(r"-\d+", text):
            i += 1
            continue
        opt, attached = _option_name(text)
        if opt in spec.no_command:
            return
        if opt in spec.script_opt:
            if attached is None and i + 1 < len(args):
                out.scripts.append((args[i + 1], f"{name} -{opt}"))
            elif attached is not None:
                out.scripts.append(((attached, known, ()), f"{name} -{opt}"))
            return
        if opt in spec.with_arg:
            i += 1 if attached is not None else 2
            continue
        if opt in spec.flags or not spec.strict:
            # A cluster such as -fw: every letter must be a known flag.
            if (spec.strict and not text.startswith("--") and len(text) > 2
                    and any(c not in spec.flags for c in text[1:])):
                out.unsure.append(f"{name} has an option it does not know ({text})")
                return
            i += 1
            continue
        out.unsure.append(f"{name} has an option it does not know ({text}); cannot tell which "
                          "program it runs")
        return
    i += spec.before
    rest = list(args[i:])
    if not rest:
        return
    if spec.joined_script:
        joined = " ".join(a[0] for a in rest)
        out.scripts.append(((joined, all(a[1] for a in rest),
                             tuple(p for a in rest for p in a[2])), name))
        return
    out.commands.append((rest, spec.extra_unknown, name))


def env_split(text: str) -> list[str] | None:
    """GNU ``env -S``: split ``text`` the way env does (``\\_`` separates, quotes group);
    None when it holds ``${VAR}`` (known only at run time) or an escape env rejects."""
    tokens: list[str] = []
    cur: list[str] = []
    started = False
    in_s = in_d = False
    i = 0
    while i < len(text):
        ch = text[i]
        if not in_s and not in_d and ch.isspace():
            if started:
                tokens.append("".join(cur))
                cur, started = [], False
        elif not in_s and not in_d and ch == "#" and not started:
            break
        elif ch == "'" and not in_d:
            in_s, started = not in_s, True
        elif ch == '"' and not in_s:
            in_d, started = not in_d, True
        elif ch == "\\" and i + 1 < len(text) and (not in_s or text[i + 1] in "\\'"):
            nxt = text[i + 1]
            i += 1
            if nxt == "_":
                if in_d:
                    cur.append(" ")
                    started = True
                elif started:
                    tokens.append("".join(cur))
                    cur, started = [], False
            elif nxt == "c" and not in_d:
                break
            elif nxt in "nftrv":
                cur.append({"n": "\n", "f": "\f", "t": "\t", "r": "\r", "v": "\v"}[nxt])
                started = True
            elif nxt in "\\\"'$# ":
                cur.append(nxt)
                started = True
            else:
                return None
        elif ch == "$" and not in_s and text.startswith("${", i):
            return None
        else:
            cur.append(ch)
            started = True
        i += 1
    if started:
        tokens.append("".join(cur))
    return tokens


def unwrap_env(args: Sequence[Arg], out: Unwrapped) -> None:
    rest = list(args[1:])
    while rest:
        text, known, subs = rest[0]
        if text == "--":
            rest = rest[1:]
            break
        if text == "-" or text in ("-i", "-0", "-v", "--ignore-environment", "--null",
                                   "--debug", "--list-signal-handling") or re.fullmatch(
                                       r"-[i0v]+", text):
            rest = rest[1:]
            continue
        if text.startswith(("--block-signal", "--default-signal", "--ignore-signal")):
            rest = rest[1:]
            continue
        split_value: str | None = None
        if text in ("-S", "--split-string") and len(rest) > 1:
            split_value, known, subs = rest[1]
            rest = rest[2:]
        elif text.startswith("--split-string="):
            split_value, rest = text.split("=", 1)[1], rest[1:]
        elif text.startswith("-S") or re.fullmatch(r"-[i0v]+S.*", text):
            split_value, rest = text[text.index("S") + 1:], rest[1:]
        if split_value is not None:
            words = env_split(split_value) if known else None
            if words is None:
                out.unsure.append("env -S gets a string known only at run time")
                return
            rest = [(w, True, subs) for w in words] + rest
            continue
        if text in ("-u", "-C", "--unset", "--chdir"):
            rest = rest[2:]
            continue
        if text.startswith(("-u", "-C", "--unset=", "--chdir=")):
            rest = rest[1:]
            continue
        if text.startswith("-"):
            out.unsure.append(f"env has an option it does not know ({text})")
            return
        if "=" in text and re.match(r"[A-Za-z_][A-Za-z0-9_]*=", text):
            rest = rest[1:]
            continue
        break
    if rest:
        out.commands.append((rest, False, "env"))


def unwrap_shell(name: str, args: Sequence[Arg], out: Unwrapped) -> str:
    """``sh -c CODE`` → CODE is a script; returns "stdin" when the shell reads its program from
    standard input, "file" when it runs a script file, "" otherwise."""
    i = 1
    code = False
    if name == "busybox":
        return ""
    while i < len(args):
        text = args[i][0]
        if text == "--":
            i += 1
            break
        if text in ("-o", "+o", "-O", "+O", "--rcfile", "--init-file"):
            i += 2
            continue
        if text.startswith("--"):
            i += 1
            continue
        if text.startswith(("-", "+")) and len(text) > 1:
            code |= "c" in text[1:]
            i += 1
            continue
        break
    if code:
        if i < len(args):
            out.scripts.append((args[i], f"{name} -c"))
        return ""
    if i < len(args) and args[i][0] != "-":
        text, known, subs = args[i]
        if not known:
            if any(p in DOWNLOADERS for p in subs):
                out.refusals.append(f"{name} running a script straight from a download")
            else:
                out.unsure.append(f"{name} runs a script whose name is known only at run time")
        return "file"
    return "stdin"


def find_exec(args: Sequence[Arg], out: Unwrapped) -> None:
    i = 1
    while i < len(args):
        if args[i][0] in ("-exec", "-execdir", "-ok", "-okdir"):
            j = i + 1
            while j < len(args) and args[j][0] not in (";", "+"):
                j += 1
            if j > i + 1:
                out.commands.append((list(args[i + 1:j]), False, "find -exec"))
            i = j
        i += 1
