"""Judge a shell command before it runs: parse it, find every command it would run, then decide.

:func:`assess` returns a refusal (the deny-list matched some command the shell would run, however
it was wrapped, quoted, substituted or piped), or *unsure* when the analysis cannot see what will
run (a computed program name, ``eval`` of text known only at run time, output of a program piped
into a shell, a command the parser cannot read). An unsure command is always put to the user.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from app.core.policy.shell_parse import Redirect, Simple, parse
from app.core.policy.shell_rules import (
    FLAG_SENSITIVE,
    RAW_DISK,
    command_reason,
    normalise,
    program_name,
    rough_segments,
    whole_reason,
)
from app.core.policy.shell_unwrap import (
    DOWNLOADERS,
    SHELLS,
    WRAPPERS,
    Arg,
    Unwrapped,
    find_exec,
    is_interpreter,
    unwrap_env,
    unwrap_shell,
    unwrap_spec,
)
from app.core.policy.shell_words import ansi_c
from app.core.tools.safe_regex import Regex, RegexError, compile_text

MAX_DEPTH = 8
MAX_COMMANDS = 400
_INLINE_CODE = {"-c", "-e", "-E", "-m", "-r", "-p", "--eval", "--print", "--command"}
_OUTPUT_OPS = (">", ">>", ">|", "&>", "&>>", "<>")


@dataclass(frozen=True)
class Assessment:
    refusal: str = ""  # why the deny-list refuses it ("" when it does not)
    unsure: str = ""  # why nobody can tell what it runs ("" when the analysis could)


def compile_patterns(patterns: Sequence[str]) -> list[Regex[str]]:
    """The configured deny patterns; a bad one is skipped (config validation reports it)."""
    out: list[Regex[str]] = []
    for p in patterns:
        try:
            out.append(compile_text(p))
        except RegexError:
            continue
    return out


@dataclass
class _Checker:
    patterns: list[Regex[str]]
    builtin: bool
    refusals: list[str] = field(default_factory=list)
    unsure: list[str] = field(default_factory=list)
    budget: int = MAX_COMMANDS
    modes: dict[int, str] = field(default_factory=dict)

    def refuse(self, why: str) -> None:
        if why not in self.refusals:
            self.refusals.append(why)

    def doubt(self, why: str) -> None:
        if why not in self.unsure:
            self.unsure.append(why)

    def configured(self, text: str) -> None:
        norm = normalise(text)
        for rx in self.patterns:
            if rx.search(norm) is not None:
                self.refuse(f"matches the configured deny pattern {rx.pattern!r}")

    def script(self, text: str, depth: int, env: dict[str, str | None]) -> None:
        if depth > MAX_DEPTH:
            self.doubt("commands nested too deeply to follow")
            return
        self.configured(text)
        if self.builtin and (why := whole_reason(text)):
            self.refuse(why)
        parsed = parse(text, env)
        if parsed.error:
            self.doubt(f"the shell parser cannot read it ({parsed.error})")
            if self.builtin:  # still refuse what a plain scan finds
                for words in rough_segments(text):
                    if why := command_reason(words):
                        self.refuse(why)
            return
        for cmd in parsed.commands:
            self.simple(cmd, depth, env)
        for stages in parsed.pipelines:
            self.pipeline(stages, depth, env)

    def simple(self, cmd: Simple, depth: int, env: dict[str, str | None]) -> None:
        for r in cmd.redirects:
            if r.target is not None and r.op in _OUTPUT_OPS and RAW_DISK.match(r.target.text):
                self.refuse("writing to a raw disk device")
        args: list[Arg] = [(f, w.known, w.substituted) for w in cmd.words
                           for f in (w.fields or ("",))]
        mode = self.command(args, depth, env, extra=False, via="")
        self.modes[id(cmd)] = mode
        if mode:
            for r in cmd.redirects:
                if r.body is not None:
                    self.fed(mode, args[0][0], r.body, depth, env)
                elif r.op == "<" and r.target is not None and not r.target.known:
                    self.doubt(f"{args[0][0]} reads a program named only at run time")

    def fed(self, mode: str, prog: str, text: str | None, depth: int,
            env: dict[str, str | None]) -> None:
        """``prog`` reads its program from stdin, and stdin is ``text`` (None: unknown)."""
        if text is None:
            self.doubt(f"{prog} runs text known only at run time")
        elif mode == "shell":
            self.script(text, depth + 1, dict(env))

    def pipeline(self, stages: list[Simple | None], depth: int,
                 env: dict[str, str | None]) -> None:
        for i in range(1, len(stages)):
            consumer = stages[i]
            mode = self.modes.get(id(consumer), "") if consumer is not None else ""
            if consumer is None or not mode:
                continue
            prog = consumer.argv[0]
            before = [s for s in stages[:i] if s is not None]
            if any(program_name(c.argv[0]) in DOWNLOADERS or any(
                    p in DOWNLOADERS for w in c.words for p in w.substituted)
                   for c in before if c.argv):
                self.refuse(f"piping a download into {program_name(prog)}")
                continue
            producer = stages[i - 1]
            text = _printed(producer) if producer is not None else None
            if text is None:
                shown = producer.argv[0] if producer is not None and producer.argv else "…"
                self.doubt(f"the output of {shown} is piped into {program_name(prog)}, which "
                           "runs it")
            else:
                self.fed(mode, prog, text, depth, env)

    def command(self, args: list[Arg], depth: int, env: dict[str, str | None], *, extra: bool,
                via: str) -> str:
        """Check one command (and what it wraps); returns "shell" / "interpreter" when it reads
        its program from standard input, "" otherwise."""
        self.budget -= 1
        if self.budget < 0:
            self.doubt("too many commands to follow")
            return ""
        if not args:
            return ""
        text, known, _ = args[0]
        where = f" (inside {via})" if via else ""
        if not known:
            self.doubt(f"the program name is computed at run time{where}")
            return ""
        name = program_name(text)
        argv = [a[0] for a in args]
        if via:
            self.configured(" ".join(argv))
        if self.builtin:
            why = command_reason(argv)
            if why:
                self.refuse(why + where)
            elif extra and name in FLAG_SENSITIVE:
                self.doubt(f"{name} gets more arguments at run time{where}")
        out = Unwrapped()
        mode = ""
        if name in WRAPPERS:
            unwrap_spec(name, WRAPPERS[name], args, out)
        elif name == "env":
            unwrap_env(args, out)
        elif name == "busybox" and len(args) > 1:
            out.commands.append((list(args[1:]), False, "busybox"))
        elif name in SHELLS:
            mode = "shell" if unwrap_shell(name, args, out) == "stdin" else ""
        elif name == "find":
            find_exec(args, out)
        elif name == "eval" and len(args) > 1:
            rest = args[1:]
            out.scripts.append(((" ".join(a[0] for a in rest), all(a[1] for a in rest),
                                 tuple(p for a in rest for p in a[2])), "eval"))
        elif name == "alias":
            out.scripts.extend(((a[0].split("=", 1)[1], a[1], a[2]), "alias")
                               for a in args[1:] if "=" in a[0])
        elif name == "trap" and len(args) > 2:
            out.scripts.append((args[1], "trap"))
        elif name in ("source", ".") and len(args) > 1 and not args[1][1]:
            if any(p in DOWNLOADERS for p in args[1][2]):
                out.refusals.append(f"{name} of a download")
            else:
                out.unsure.append(f"{name} reads a file named only at run time")
        elif is_interpreter(name) and _reads_stdin(argv):
            mode = "interpreter"
        for inner, more, how in out.commands:
            self.command(inner, depth + 1, env, extra=extra or more,
                         via=f"{how}, {via}" if via else how)
        for (code, code_known, subs), how in out.scripts:
            if any(p in DOWNLOADERS for p in subs):
                self.refuse(f"{how} of a download")
            elif not code_known:
                self.doubt(f"{how} runs code known only at run time")
            else:
                self.script(code, depth + 1, dict(env))
        for why in out.refusals:
            self.refuse(why)
        for why in out.unsure:
            self.doubt(why)
        return mode


def _reads_stdin(argv: list[str]) -> bool:
    """An interpreter with no script and no inline code reads its program from stdin."""
    rest = argv[1:]
    if any(a in _INLINE_CODE or (a.startswith("-") and not a.startswith("--") and len(a) > 2
                                 and a[1] in "cem") for a in rest):
        return False
    operands = [a for a in rest if not a.startswith("-")]
    return not operands or operands[0] == "-" or "-" in rest


def _printed(cmd: Simple) -> str | None:
    """What ``echo``/``printf`` with literal arguments writes (None for anything else)."""
    if not cmd.words or not all(w.known for w in cmd.words):
        return None
    argv = list(cmd.argv)
    name = program_name(argv[0])
    if name == "echo":
        escapes = False
        args = argv[1:]
        while args and args[0] in ("-n", "-e", "-E", "-ne", "-en"):
            escapes |= "e" in args[0]
            args = args[1:]
        text = " ".join(args)
        return ansi_c(text) if escapes or "\\" in text else text
    if name == "printf" and len(argv) >= 2 and "%" not in argv[1]:
        return ansi_c(argv[1])
    return None


def assess(command: str, deny_patterns: Sequence[str] = (), *, builtin: bool = True) -> Assessment:
    """Refusal or doubt for ``command`` (both "" when the analysis found nothing against it)."""
    checker = _Checker(compile_patterns(deny_patterns), builtin)
    checker.script(command, 0, {})
    return Assessment("; ".join(checker.refusals), "; ".join(checker.unsure))


def first_redirect_target(redirects: Sequence[Redirect]) -> str:
    for r in redirects:
        if r.target is not None:
            return r.target.text
    return ""
