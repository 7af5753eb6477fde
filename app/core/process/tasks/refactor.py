"""A codebase-wide mechanical change as a process: one place per step, voted, compiled.

Each step shows the model one place (a few whole lines of one file, found by the recipe's rules)
and asks for those lines after the change. The reply is the whole of the new lines; it is read
strictly (no code fences, no explanation, the first line keeps its indentation), spliced into the
file as the earlier steps left it, and the file is compiled (or a configured command is run on
it): a reply that does not compile is a red flag and never votes. Replies are counted on their
text, so first-to-ahead-by-k decides between spellings, and between a right edit and a wrong one
that compiles.

The state is the index of the next place plus the edits already decided in the current file (its
places run bottom-up, so those edits never move a place still to come). Nothing is written to the
codebase: the output is a patch series and, for a git repository, a branch with one commit per
file (``refactor_output``), rebuilt from the log after every run.
"""

from __future__ import annotations

import shlex
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from app.core.process.params import Param
from app.core.process.task import Answer, Parsed, Prompt, RedFlag, TaskError, register_task
from app.core.process.tasks.refactor_plan import (
    Location,
    Plan,
    Recipe,
    RegexRecipe,
    ZeroArgSuper,
    cached_plan,
    compile_error,
    lines_of,
    make_plan,
    matches,
    normalize,
    open_source,
    token_key,
)

Edit = tuple[int, int, str]
State = tuple[int, tuple[Edit, ...]]
RECIPES = ("zero-arg-super", "regex")

SYSTEM = (
    "You make one mechanical change to source code, one small place at a time.\n"
    "The change: {instruction}.\n{examples}"
    "You are given some lines of a file (Before). Reply with the same lines after the change "
    "(After): copy them exactly, changing only what the change asks for, with the same "
    "indentation. Reply with the lines only: no explanation, no code fences.")


def _grammar(indent: str, lines: int) -> str:
    """The first line starts with the place's own indentation; at most ``lines`` lines."""
    lead = "".join(f"\\x{ord(c):02x}" for c in indent)
    first = f'"{lead}" ' if lead else ""
    return f'root ::= {first}[^\\x0a]* ("\\x0a" [^\\x0a]*){{0,{lines - 1}}}\n'


class RefactorTask:
    def __init__(self, params: dict[str, Any]) -> None:
        self.root = Path(params["repo"])
        recipe_name = params["recipe"]
        self.recipe: Recipe
        if recipe_name == "zero-arg-super":
            self.recipe = ZeroArgSuper()
        else:
            if not params.get("pattern"):
                raise TaskError("the regex recipe needs --param pattern=REGEX (the lines to change)")
            examples: tuple[tuple[str, str], ...] = ()
            if params.get("example_before") and params.get("example_after"):
                examples = ((str(params["example_before"]), str(params["example_after"])),)
            self.recipe = RegexRecipe(str(params.get("pattern") or ""),
                                      str(params.get("instruction") or ""),
                                      params.get("replace"), examples,
                                      python=params["check"] == "python")
        self.source = open_source(self.root, str(params.get("rev") or ""))
        include = [p for p in str(params["include"]).split(",") if p]
        exclude = [p for p in str(params.get("exclude") or "").split(",") if p]
        paths = [p for p in self.source.paths() if matches(p, include) and not matches(p, exclude)]
        if not paths:
            raise TaskError(f"no file under {self.root} matches include={params['include']!r}")
        fingerprint = self.source.fingerprint(paths)
        given = str(params.get("fingerprint") or "")
        if given and given != fingerprint:
            raise TaskError(f"{self.root} changed since this refactor started (its files no longer "
                            "match the fingerprint); restore them, or start a new process")
        self.max_lines = int(params["max_lines"])
        self._original: dict[str, list[str]] = {}
        key = {k: v for k, v in params.items() if k not in ("fingerprint", "branch")}
        self.plan: Plan = cached_plan(
            {**key, "fingerprint": fingerprint},
            lambda: make_plan(self.source, paths, self.recipe, fingerprint, self.max_lines))
        self.locations: list[Location] = self.plan.locations
        check = str(params["check"])
        self.check_argv = [] if check in ("python", "none") else shlex.split(check)
        self.check_python = check == "python"
        self.check_timeout = float(params["check_timeout"])
        self.branch = str(params.get("branch") or "")
        self.name = "refactor"
        # Calibrations are per recipe (and per pattern): a model's skill differs between changes.
        self.variant = recipe_name if recipe_name != "regex" else f"regex:{params.get('pattern')}"
        self.params = {**params, "rev": self.source.commit, "fingerprint": fingerprint}
        if not self.source.commit:
            self.params.pop("rev", None)
        self.total_steps: int | None = len(self.locations)
        # A reply about as long as the longest place, in tokens (about 3 characters each), plus
        # room: a reply far past that has lost its way (MAKER's length red flag).
        self.default_token_cap = min(512, max(48, self.plan.longest // 2 + 32))
        examples_text = "".join(f"Example:\nBefore:\n{b}\nAfter:\n{a}\n"
                                for b, a in self.recipe.examples)
        self._system = SYSTEM.format(instruction=self.recipe.instruction, examples=examples_text)

    # --- files ----------------------------------------------------------------------------------

    def original(self, path: str) -> list[str]:
        lines = self._original.get(path)
        if lines is None:
            if len(self._original) > 64:
                self._original.clear()
            lines = lines_of(self.source.read(path).decode("utf-8"))
            self._original[path] = lines
        return lines

    def current(self, path: str, edits: Iterable[Edit]) -> list[str]:
        """The file as the decided edits left it (edits in original line numbers, never
        overlapping)."""
        lines = list(self.original(path))
        for start, end, text in sorted(edits, reverse=True):
            lines[start - 1:end] = self._new_lines(lines[start - 1:end], text)
        return lines

    @staticmethod
    def _new_lines(old: list[str], text: str) -> list[str]:
        eol = "\r\n" if old and old[0].endswith("\r\n") else "\n"
        new = [line + eol for line in text.split("\n")]
        if old and not old[-1].endswith("\n"):  # the file's last line had no newline
            new[-1] = new[-1][:-len(eol)]
        return new

    def solver(self) -> Any:
        """The recipe's own edits as a solver (calibration, audit), when the recipe has them."""
        if not self.locations:
            return None
        loc = self.locations[0]
        if self.recipe.expected("".join(self.original(loc.path)), loc.start, loc.end) is None:
            return None
        from app.core.process.tasks.refactor_oracle import refactor_oracle

        return refactor_oracle()

    # --- the task contract -------------------------------------------------------------------

    def initial_state(self) -> State:
        return (0, ())

    def is_done(self, state: State) -> bool:
        return state[0] >= len(self.locations)

    def prompt(self, state: State, prev_action: Any | None) -> Prompt:
        i, edits = state
        loc = self.locations[i]
        old = self.current(loc.path, edits)[loc.start - 1:loc.end]
        before = normalize("".join(old))
        indent = old[0][:len(old[0]) - len(old[0].lstrip(" \t"))]
        return Prompt(self._system, f"File: {loc.path}\nBefore:\n{before}\nAfter:",
                      _grammar(indent, len(old) + 1))

    def parse(self, text: str) -> Parsed | RedFlag:
        new = normalize(text)
        if not new.strip():
            return RedFlag("format", "an empty reply")
        if any(line.lstrip().startswith("```") for line in new.split("\n")):
            return RedFlag("format", "a code fence: the reply must be the lines only")
        return Parsed(new, None)

    def validate(self, state: State, parsed: Parsed) -> Answer | RedFlag:
        i, edits = state
        text = parsed.action
        if not isinstance(text, str) or not 0 <= i < len(self.locations):
            return RedFlag("invalid", "not an edit of this refactor")
        loc = self.locations[i]
        lines = self.current(loc.path, edits)
        old = lines[loc.start - 1:loc.end]
        first = text.split("\n", 1)[0]
        indent = old[0][:len(old[0]) - len(old[0].lstrip(" \t"))]
        if first[:len(first) - len(first.lstrip(" \t"))] != indent:
            return RedFlag("format", "the first line does not keep its indentation")
        if text.count("\n") + 1 > len(old) + 1:
            return RedFlag("format", f"{text.count(chr(10)) + 1} lines for a place of {len(old)}")
        key = self.key(text)
        if key == self.key(normalize("".join(old))):
            return RedFlag("invalid", "the edit changes nothing"
                           + (" but layout" if text != normalize("".join(old)) else ""))
        candidate = "".join(lines[:loc.start - 1] + self._new_lines(old, text) + lines[loc.end:])
        why = self._check(loc.path, candidate)
        if why:
            return RedFlag("invalid", why)
        nxt = i + 1
        same_file = nxt < len(self.locations) and self.locations[nxt].path == loc.path
        kept = (*edits, (loc.start, loc.end, text)) if same_file else ()
        return Answer(key, text, (nxt, kept))

    def key(self, text: str) -> str:
        """What votes count: for Python the tokens without layout (line breaks and spacing inside
        brackets), so reflowed copies of one edit vote together; else the text."""
        if self.recipe.python:
            return token_key(text.strip()) or text
        return text

    def _check(self, path: str, text: str) -> str:
        if self.check_python:
            why = compile_error(text, path)
            return f"does not compile: {why}" if why else ""
        if not self.check_argv:
            return ""
        with tempfile.TemporaryDirectory(prefix="nanobot-check-") as tmp:
            target = Path(tmp) / Path(path).name
            target.write_text(text, encoding="utf-8")
            argv = [a.replace("{file}", str(target)) for a in self.check_argv]
            try:
                proc = subprocess.run(argv, cwd=self.root, capture_output=True, text=True,
                                      timeout=self.check_timeout, stdin=subprocess.DEVNULL,
                                      check=False)
            except subprocess.TimeoutExpired:
                return f"check ran past {self.check_timeout:g} s"
            except OSError as exc:
                return f"check could not run: {exc}"
        if proc.returncode != 0:
            return f"check exited {proc.returncode}: {(proc.stderr or proc.stdout).strip()[-300:]}"
        return ""

    def state_to_json(self, state: State) -> Any:
        return {"i": state[0], "edits": [list(e) for e in state[1]]}

    def state_from_json(self, data: Any) -> State:
        if not isinstance(data, dict) or set(data) != {"i", "edits"}:
            raise TaskError(f"not a refactor state: {str(data)[:80]}")
        i, raw = data["i"], data["edits"]
        if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i <= len(self.locations):
            raise TaskError(f"refactor state: no place {i!r}")
        done_here = [(loc.start, loc.end) for loc in self.locations[:i]
                     if i < len(self.locations) and loc.path == self.locations[i].path]
        if not isinstance(raw, list) or not all(
                isinstance(e, list) and len(e) == 3 and isinstance(e[2], str) for e in raw) \
                or [(e[0], e[1]) for e in raw] != done_here:
            raise TaskError(f"refactor state: the edits do not match the places before {i}")
        return (i, tuple((int(e[0]), int(e[1]), str(e[2])) for e in raw))

    def action_from_json(self, data: Any) -> str:
        if not isinstance(data, str):
            raise TaskError(f"not a refactor edit: {str(data)[:80]}")
        return data

    def write_output(self, decisions: Iterable[tuple[int, Any]], directory: Path,
                     process_id: str) -> list[str]:
        from app.core.process.tasks.refactor_output import write_refactor_output

        return write_refactor_output(self, decisions, directory, process_id)


def _factory(params: dict[str, Any]) -> RefactorTask:
    if not Path(params["repo"]).is_dir():
        raise TaskError(f"repo {params['repo']} is not a directory")
    return RefactorTask(params)


register_task("refactor", _factory, params=(
    Param("repo", "path", help="the codebase: a git repository (read at rev) or a directory"),
    Param("recipe", "str", "zero-arg-super", choices=RECIPES,
          help="zero-arg-super: super(C, self) -> super(); regex: pattern + instruction"),
    Param("pattern", "str", None, help="regex recipe: lines matching this are the places"),
    Param("instruction", "str", None, help="regex recipe: the change, in words"),
    Param("replace", "str", None, help="regex recipe: re.sub replacement, for the audit only"),
    Param("example_before", "str", None, help="regex recipe: an example line before ..."),
    Param("example_after", "str", None, help="... and after the change"),
    Param("include", "str", "**/*.py", help="comma-separated globs of files to change"),
    Param("exclude", "str", "", help="comma-separated globs of files to leave alone"),
    Param("check", "str", "python",
          help="python (compile each edited file), none, or a command run on the edited file "
               "({file}); exit 0 accepts"),
    Param("check_timeout", "float", 60.0, min=0.1),
    Param("max_lines", "int", 8, min=1, max=50, help="longer places are left out (and listed)"),
    Param("rev", "str", "", help="git: the commit to change (default HEAD; pinned at start)"),
    Param("branch", "str", "", help="git: the output branch (default nanobot/<process id>; "
                                    "'-' for none)"),
    Param("fingerprint", "str", "", help="set when the process starts; checked on resume")))
