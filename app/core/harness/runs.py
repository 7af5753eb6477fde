"""The runs a request asks for, read from its form: a command written out ("python -m
inventory.report", `pytest -q`) or a script named after a verb of running ("Run calc.py", "then
run it" for the one script the request names). The harness runs them itself where a small model
answers without running (it read README.md and guessed the report's value) or changes the file
it was asked to run (asked "Run calc.py. What does it print?", it rewrote calc.py).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from app.core.harness.calls import FILE_NAME_RE, is_question
from app.core.harness.claims import STOPWORDS
from app.core.harness.part import HarnessPart
from app.core.wire.tool_args import SCRIPT_INTERPRETERS as INTERPRETERS

_PROGRAMS = r"python3?|sh|bash|node|ruby|perl|pytest|make"
_COMMAND = re.compile(rf"(?<![\w./-])(?:{_PROGRAMS})(?![\w.-])")
# What may follow the program in a command written in prose: flags, paths, module and file
# names, numbers. An English word ends it ("python convert.py and tell me …").
_ARG = re.compile(r"-{1,2}[A-Za-z][\w-]*(?:=[\w./-]+)?|[\w-]*[./][\w./-]*\w|\d+")
_RUN_VERB = re.compile(r"\b(?:run|execute|rerun)\b", re.IGNORECASE)
# After the verb, a few words at most before the script ("run the script calc.py").
_RUN_TARGET = re.compile(r"\s+(?:(?:the|this|my|your|script|program|file)\s+){0,3}(\S+)")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z`])")
_TOKEN = re.compile(r"\w[\w.-]*\w|\w")
# The most of a run's output an answer is given when it shows none of it: a failing test run
# ends with its summary, so the last lines are kept.
REPORT_LINES = 15


def requested_runs(request: str) -> list[str]:
    """The commands ``request`` asks to run, in order, each once."""
    out: list[str] = []
    for m in re.finditer(r"`([^`\n]+)`", request):
        code = m.group(1).strip()
        if _COMMAND.match(code) and _parses(code):
            out.append(code)
    plain = re.sub(r"`[^`]*`", " ", request)
    for m in _COMMAND.finditer(plain):
        words = [m.group(0)]
        for raw in plain[m.end():].split():
            token = raw.rstrip(".,;:!?)")
            if not _ARG.fullmatch(token):
                break
            words.append(token)
            if raw != token:  # the sentence or clause ends here
                break
        if len(words) >= 2:  # a bare "make" or "python" in prose is a word, not a command
            out.append(" ".join(words))
    scripts = [n for n in dict.fromkeys(FILE_NAME_RE.findall(plain))
               if Path(n).suffix.lower() in INTERPRETERS]
    for m in _RUN_VERB.finditer(plain):
        target = _RUN_TARGET.match(plain, m.end())
        if target is None:
            continue
        word = target.group(1).rstrip(".,;:!?)")
        if word in scripts:
            script = word
        elif word.lower() == "it" and len(scripts) == 1:
            script = scripts[0]
        else:
            continue
        command = f"{INTERPRETERS[Path(script).suffix.lower()]} {script}"
        if not any(script in c.split() for c in out):
            out.append(command)
    return list(dict.fromkeys(out))


def _parses(command: str) -> bool:
    try:
        return bool(shlex.split(command))
    except ValueError:
        return False


def _sentences(request: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(request.strip()) if s.strip()]


def _is_run_sentence(sentence: str) -> bool:
    first = re.match(r"(?:please\s+)?([A-Za-z]+)", sentence, re.IGNORECASE)
    return first is not None and bool(_RUN_VERB.fullmatch(first.group(1)))


def runs_first(request: str) -> bool:
    """Whether running is the first thing ``request`` asks ("Run calc.py. What does it
    print?", "What is the output of python convert.py?"), so the harness may run before the
    model's first step; "Fix the bug, then run it" runs after the fix."""
    sentences = _sentences(request)
    return bool(sentences) and (_is_run_sentence(sentences[0]) or is_question(request))


def only_runs_and_questions(request: str) -> bool:
    """Whether every sentence of ``request`` is a plain run ("Run calc.py.", no "and …" after
    it) or a question: nothing in it asks for a change, so once it ran, the answer is read from
    the output and no file is written."""
    sentences = _sentences(request)
    if not sentences:
        return False
    for s in sentences:
        if _is_run_sentence(s):
            if re.search(r",|;|\b(?:and|then|but)\b", s, re.IGNORECASE):
                return False
            continue
        if not is_question(s):
            return False
    return True


def runs_here(command: str, workspace: Path) -> bool:
    """Whether ``command``'s script or module exists in ``workspace`` (a module for ``-m``)."""
    try:
        argv = shlex.split(command)
    except ValueError:
        return False
    if len(argv) >= 3 and argv[1] == "-m":
        module = argv[2].replace(".", "/")
        return (workspace / f"{module}.py").is_file() or (workspace / module).is_dir()
    script = next((a for a in argv[1:] if not a.startswith("-")), "")
    if argv[0] in ("pytest", "make") and not script:
        return True
    return bool(script) and (workspace / script).exists()


def same_run(command: str, ran: str) -> bool:
    """Whether ``ran`` (a command the turn ran) is ``command``: the same words, up to the
    interpreter's spelling (python3, ./script)."""
    def norm(c: str) -> list[str]:
        words = c.replace("python3", "python").split()
        return [w.removeprefix("./") for w in words]
    want, got = norm(command), norm(ran)
    if want == got:
        return True
    script = next((w for w in want[1:] if not w.startswith("-")), "")
    return bool(script) and script in got


class RequestedRuns(HarnessPart):
    """The harness's part that runs what a request asks to run. A mixin of
    :class:`app.core.harness.harness.Harness`."""

    def runs_before_first_step(self, request: str) -> list[str]:
        """Commands to run before the model's first step: running is the first thing asked and
        the script or module is here."""
        if not self.config.requested_runs or not runs_first(request):
            return []
        return [c for c in requested_runs(request) if runs_here(c, self.workspace)]

    def note_run(self, command: str, *, ok: bool) -> None:
        """A command ran (``ok``: it was not stopped by a check before running)."""
        if ok and command not in self.turn.ran:
            self.turn.ran.append(command)

    def workspace_changed(self) -> None:
        self.turn.ran.clear()  # what ran before a write may print something else now

    def pending_runs(self) -> list[str]:
        """Commands the request asks to run that exist and have not run since the last change
        of the workspace (the model wrote primes.py and answered without running it)."""
        if not self.config.requested_runs:
            return []
        return [c for c in requested_runs(self.turn.request)
                if runs_here(c, self.workspace)
                and not any(same_run(c, ran) for ran in self.turn.ran)]

    def answered_by_runs(self, request: str) -> bool:
        """Whether ``request`` only asks to run and ask about the output, and the harness ran it
        all: the model answers from the output, with nothing to write or run."""
        return (self.turn.harness_ran and only_runs_and_questions(request)
                and not self.pending_runs())

    def runs_done(self, commands: list[str]) -> str:
        """The answer step's instruction once the harness ran ``commands`` for the answer."""
        self.counters["requested_runs"] = self.counters.get("requested_runs", 0) + len(commands)
        ran = ", ".join(f"`{c}`" for c in commands)
        return (f"Your request asks to run {ran}, so I ran it; the output is above. Answer my "
                f"request \"{self.turn.request}\" from that output.")


    def unreported_output(self, answer: str) -> str:
        """The output of the runs the request asked for, for an ``answer`` that shows nothing of
        it: asked to create primes.py and run it, the 1.5B model ran it and answered "I created
        primes.py". Empty when the answer has a word, name or number of the output (not
        of the command itself)."""
        if not self.config.requested_runs:
            return ""
        said = {t.lower() for t in _TOKEN.findall(answer)}
        out: list[str] = []
        for command in requested_runs(self.turn.request):
            ran = [c for c in self.turn.printed if same_run(command, c)]
            if not ran:
                continue
            text = self.turn.printed[ran[-1]]
            lines = [ln.rstrip() for ln in text.strip().splitlines() if ln.strip()]
            if not lines or lines == ["(no output)"]:
                continue
            known = {t.lower() for t in _TOKEN.findall(ran[-1])}
            # The tool's own notes ("[exit code 1]") are not what the program printed.
            printed = "\n".join(ln for ln in lines if not re.fullmatch(r"\[.*\]", ln.strip()))
            values = {t.lower() for t in _TOKEN.findall(printed)} - known - STOPWORDS
            if values & said:
                continue
            shown = lines[-REPORT_LINES:]
            cut = f"(last {len(shown)} of {len(lines)} lines)\n" if len(shown) < len(lines) else ""
            out.append(f"`{ran[-1]}` printed:\n{cut}```\n" + "\n".join(shown) + "\n```")
        if out:
            self.counters["reported_runs"] = self.counters.get("reported_runs", 0) + len(out)
        return "\n\n".join(out)
