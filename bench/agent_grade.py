"""Tasks and grading for ``bench/agent_tasks.py``: facts in the answer, state of the workspace.

An answer is graded on facts, never on wording: every ``answer`` entry must appear (``"a | b"``
accepts either; a number matches as a whole number, ``18,500`` and ``18500`` alike), no ``reject``
entry may appear, and a ``not_found`` task wants an answer that says the thing is not there. The
workspace is graded on the files a task names (contents, syntax, a command's output) and on every
other file staying as it was; read-only categories may not change or add anything.

An **unsupported claim** is a graded answer that states something other than the truth: it fails
its fact check (or names a known-wrong value) without saying it could not find the answer. An
honest "I could not find it" is a failure, never an unsupported claim.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).with_name("agent_task_data")
CATEGORIES = ("read", "count", "search", "edit", "create", "run", "multi", "notool", "absent")
# Categories whose tasks must leave the workspace exactly as it was.
READ_ONLY = {"read", "count", "search", "notool", "absent", "run"}
# Files a run may leave behind without changing anything a user cares about.
_NOISE = re.compile(r"(^|/)(__pycache__|\.pytest_cache|\.nanobot)(/|$)|\.pyc$")
# "I could not find it", "there is no …", "does not contain …"
_NOT_FOUND = re.compile(
    r"\b(not found|could ?n[o']t|can ?n[o']t|cannot|unable|no such|does ?n[o']t|do ?n[o']t|"
    r"is ?n[o']t|are ?n[o']t|was ?n[o']t|there (is|are) no|has no|have no|no mention|"
    r"not (listed|mentioned|defined|specified|present|set|included|stated|available|there)|"
    r"none|nothing)\b", re.IGNORECASE)


@dataclass(frozen=True)
class FileCheck:
    path: str
    contains: tuple[str, ...] = ()
    lacks: tuple[str, ...] = ()
    python: bool = False
    json: bool = False


@dataclass(frozen=True)
class RunCheck:
    cmd: str
    output: tuple[str, ...] = ()


@dataclass(frozen=True)
class Task:
    id: str
    category: str
    fixture: str
    prompt: str
    answer: tuple[str, ...] = ()
    reject: tuple[str, ...] = ()
    not_found: bool = False
    files: tuple[FileCheck, ...] = ()
    runs: tuple[RunCheck, ...] = ()

    @property
    def read_only(self) -> bool:
        return self.category in READ_ONLY

    @property
    def grades_answer(self) -> bool:
        return bool(self.answer or self.reject or self.not_found)


@dataclass
class Grade:
    passed: bool
    answer_ok: bool
    files_ok: bool
    unsupported: bool
    problems: list[str] = field(default_factory=list)


def load_tasks(data_dir: Path = DATA_DIR) -> list[Task]:
    """Every task of every ``<category>.toml``, in category order."""
    tasks: list[Task] = []
    seen: set[str] = set()
    for category in CATEGORIES:
        path = data_dir / f"{category}.toml"
        if not path.exists():
            continue
        raw = tomllib.loads(path.read_text("utf-8"))
        for t in raw.get("task", []):
            task = Task(
                id=t["id"], category=category, fixture=t["fixture"], prompt=t["prompt"],
                answer=tuple(t.get("answer", ())), reject=tuple(t.get("reject", ())),
                not_found=bool(t.get("not_found", False)),
                files=tuple(FileCheck(f["path"], tuple(f.get("contains", ())),
                                      tuple(f.get("lacks", ())), bool(f.get("python", False)),
                                      bool(f.get("json", False))) for f in t.get("files", ())),
                runs=tuple(RunCheck(r["cmd"], tuple(r.get("output", ())))
                           for r in t.get("run", ())))
            if task.id in seen:
                raise ValueError(f"{path.name}: duplicate task id {task.id!r}")
            seen.add(task.id)
            tasks.append(task)
    return tasks


# --- answers -------------------------------------------------------------------------------------

def normalise(text: str) -> str:
    """Lower case, markdown emphasis (``*``) and code ticks dropped, whitespace collapsed;
    underscores stay (they are part of identifiers)."""
    text = text.replace("`", "").replace("*", "")
    return " ".join(text.lower().split())


def _number_re(num: str) -> re.Pattern[str]:
    """A whole number, with or without thousands separators (``18500`` ~ ``18,500``)."""
    plain = num.replace(",", "")
    digits = re.escape(plain)
    if re.fullmatch(r"-?\d{4,}", plain):
        head, tail = plain[: len(plain) % 3 or 3], plain[len(plain) % 3 or 3:]
        grouped = head + "".join("," + tail[i:i + 3] for i in range(0, len(tail), 3))
        digits = f"(?:{re.escape(plain)}|{re.escape(grouped)})"
    # A whole number may be printed as a float: python prints 180 + 23.0 as "203.0".
    zeros = r"(?:\.0+)?" if "." not in plain else ""
    return re.compile(rf"(?<![\w.]){digits}{zeros}(?!\d|\.\d)")


def _as_words(fact: str) -> re.Pattern[str]:
    """``fact`` not inside a longer word (the ends that are punctuation, like "[::-1]", may
    touch anything)."""
    head = r"(?<!\w)" if fact[:1].isalnum() or fact[:1] == "_" else ""
    tail = r"(?!\w)" if fact[-1:].isalnum() or fact[-1:] == "_" else ""
    return re.compile(head + re.escape(fact) + tail)


def has_fact(answer: str, fact: str) -> bool:
    """Whether ``answer`` states ``fact`` (one alternative of ``"a | b"`` is enough)."""
    norm = normalise(answer)
    for alt in (a.strip() for a in fact.split(" | ")):
        if not alt:
            continue
        if re.fullmatch(r"-?[\d,]+(\.\d+)?", alt):
            if _number_re(alt).search(norm):
                return True
        elif _as_words(normalise(alt)).search(norm):
            # As whole words: a wrong class name "Model" is not "inventory/models.py".
            return True
    return False


def in_file(text: str, fact: str) -> bool:
    """``fact`` in ``text`` as whole tokens: "MAX_RETRIES = 89" does not still have
    "MAX_RETRIES = 8", and "TIMEOUT = 600" does not have "TIMEOUT = 60"."""
    before = r"(?<!\w)" if fact[:1].isalnum() or fact[:1] == "_" else ""
    after = r"(?!\w)" if fact[-1:].isalnum() or fact[-1:] == "_" else ""
    return re.search(before + re.escape(fact) + after, text) is not None


def says_not_found(answer: str) -> bool:
    return bool(_NOT_FOUND.search(answer))


def grade_answer(task: Task, answer: str) -> tuple[bool, bool, list[str]]:
    """(answer right, unsupported claim, problems)."""
    problems: list[str] = []
    if not task.grades_answer:
        return True, False, problems
    text = answer.strip()
    rejected = [r for r in task.reject if has_fact(text, r)]
    if rejected:
        problems.append(f"states a wrong value: {', '.join(rejected)}")
    if task.not_found:
        ok = says_not_found(text) and not rejected
        if not ok and not rejected:
            problems.append("does not say the answer is not in the workspace")
        return ok, bool(text) and not ok, problems
    # "I could not find that (I read inventory/report.py, …)" names the files it looked at, not
    # an answer: the list is not searched for the answer's facts.
    stated = re.sub(r"\(I read [^)]*\)", "", text)
    missing = [f for f in task.answer if not has_fact(stated, f)]
    if missing:
        problems.append(f"answer lacks {', '.join(missing)}")
    ok = not missing and not rejected
    unsupported = bool(rejected) or (not ok and bool(text) and not says_not_found(text))
    if task.category == "notool":
        unsupported = False  # general knowledge: wrong, but not a claim about the workspace
    return ok, unsupported, problems


# --- the workspace -------------------------------------------------------------------------------

def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (relative path → bytes), build noise left out."""
    out: dict[str, bytes] = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_file() and not _NOISE.search(rel):
            out[rel] = p.read_bytes()
    return out


def _run(cmd: str, cwd: Path, timeout: float = 30.0) -> str:
    argv = cmd.split()
    if argv and argv[0] == "python":
        argv[0] = sys.executable
    try:
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return "[timed out]"
    return done.stdout + done.stderr


def grade_files(task: Task, before: dict[str, bytes], root: Path) -> list[str]:
    problems: list[str] = []
    after = snapshot(root)
    named = {f.path for f in task.files}
    for rel, data in before.items():
        if rel in named:
            continue
        if rel not in after:
            problems.append(f"{rel} was deleted")
        elif after[rel] != data:
            problems.append(f"{rel} was changed")
    added = sorted(set(after) - set(before) - named)
    if task.read_only and added:
        problems.append("created " + ", ".join(added[:3]))
    for check in task.files:
        path = root / check.path
        if not path.is_file():
            problems.append(f"{check.path} is missing")
            continue
        text = path.read_text("utf-8", errors="replace")
        for fact in check.contains:
            if not any(in_file(text, a.strip()) for a in fact.split(" | ")):
                problems.append(f"{check.path} lacks {fact!r}")
        for bad in check.lacks:
            if in_file(text, bad):
                problems.append(f"{check.path} still has {bad!r}")
        if check.python:
            try:
                compile(text, check.path, "exec")
            except SyntaxError as exc:
                problems.append(f"{check.path}: syntax error line {exc.lineno}")
        if check.json:
            try:
                json.loads(text)
            except ValueError:
                problems.append(f"{check.path} is not valid JSON")
    for run in task.runs:
        out = _run(run.cmd, root)
        low = out.lower()
        for fact in run.output:
            if not any(a.strip().lower() in low for a in fact.split(" | ")):
                problems.append(f"`{run.cmd}` output lacks {fact!r}: {out.strip()[:80]!r}")
    return problems


def grade(task: Task, answer: str, before: dict[str, bytes], root: Path) -> Grade:
    answer_ok, unsupported, problems = grade_answer(task, answer)
    file_problems = grade_files(task, before, root)
    files_ok = not file_problems
    return Grade(answer_ok and files_ok, answer_ok, files_ok, unsupported,
                 [*problems, *file_problems])


def summary_rows(results: list[dict[str, Any]]) -> list[tuple[str, int, int, int]]:
    """(category, passed, total, unsupported) per category, then "all"."""
    rows: list[tuple[str, int, int, int]] = []
    for cat in [*CATEGORIES, "all"]:
        mine = [r for r in results if cat == "all" or r["category"] == cat]
        if mine:
            rows.append((cat, sum(r["passed"] for r in mine), len(mine),
                         sum(r["unsupported"] for r in mine)))
    return rows
