r"""A declarative task: for each item of a list, ask one small question and record the answer.

The job is a TOML file (``nanobot process run --task-file job.toml``)::

    name = "param-count"                  # the task's name in status and the F6 view
    [input]
    jsonl = "functions.jsonl"             # or csv = "table.csv", or glob = "docs/**/*.md"
    id = "qualname"                       # optional: the field that names an item in the results
    expected = "count"                    # optional: the right answer, for calibration and audit
    [prompt]
    system = "You answer questions about Python code."
    template = "How many parameters ... {signature}\nAnswer: count = N"
    [answer]
    regex = 'count = (\d+)'               # or schema = { type = "object", ... }
    type = "int"                          # regex only: str (default), int or float
    max_tokens = 12                       # the red-flag length cap before calibration
    [check]                               # optional: one command per answer, the red flag
    command = ["python3", "check.py"]     # {"index", "item", "answer"} on stdin; exit 0 accepts
    timeout = 10
    [output]
    results = "results.jsonl"             # default: <process>/output/results.jsonl

Paths are relative to the TOML file. A glob's items are ``{path, name, text}`` (text capped by
``max_chars``). The state is the index of the next item; the answers are the decisions in the
process log, and the results file is written from them. The job file and its input are
fingerprinted when the process starts; a resume refuses to go on if either changed.

Every answer is voted like any other step: a reply outside the format, over the length cap or
refused by the check command is red-flagged and not counted.
"""

from __future__ import annotations

import csv
import hashlib
import json
import string
import subprocess
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from app.core.process.answer_format import AnswerFormat, answer_key
from app.core.process.params import Param
from app.core.process.task import Answer, Parsed, Prompt, RedFlag, TaskError, register_task
from app.core.settings.paths import atomic_write_text

SECTIONS = {"name": str, "description": str, "input": dict, "prompt": dict, "answer": dict,
            "check": dict, "output": dict}
MAX_CHARS = 4000


def _table(data: dict[str, Any], name: str, keys: set[str]) -> dict[str, Any]:
    table = data.get(name) or {}
    unknown = set(table) - keys
    if unknown:
        raise TaskError(f"[{name}]: unknown key(s) {', '.join(sorted(unknown))} "
                        f"(allowed: {', '.join(sorted(keys))})")
    return table


def _fields(template: str) -> list[str]:
    """The placeholders of a template; only plain names (no attributes, indexes or conversions:
    an item's text must not reach Python's formatting machinery)."""
    names = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TaskError(f"[prompt] template: {exc} (write literal braces as {{{{ and }}}})") from exc
    for _text, name, spec, conv in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conv:
            raise TaskError(f"[prompt] template: placeholder {{{name}}} must be a plain field name")
        names.append(name)
    return names


class JobTask:
    def __init__(self, path: Path, fingerprint: str = "") -> None:
        self.path = path
        try:
            raw = path.read_bytes()
            data = tomllib.loads(raw.decode("utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise TaskError(f"job file {path}: {exc}") from exc
        unknown = set(data) - set(SECTIONS)
        if unknown:
            raise TaskError(f"job file {path}: unknown key(s) {', '.join(sorted(unknown))} "
                            f"(allowed: {', '.join(SECTIONS)})")
        for key, kind in SECTIONS.items():
            if key in data and not isinstance(data[key], kind):
                raise TaskError(f"job file {path}: {key} must be a {kind.__name__}")
        self.name = str(data.get("name") or path.stem)
        self.description = str(data.get("description", ""))
        base = path.parent
        inp = _table(data, "input", {"jsonl", "csv", "glob", "id", "expected", "max_chars"})
        prompt = _table(data, "prompt", {"system", "template"})
        answer = _table(data, "answer", {"regex", "schema", "type", "max_tokens"})
        check = _table(data, "check", {"command", "timeout"})
        output = _table(data, "output", {"results"})
        digest = hashlib.sha256(raw)
        self.items = self._load_items(inp, base, digest)
        self.fingerprint = digest.hexdigest()
        if fingerprint and fingerprint != self.fingerprint:
            raise TaskError(f"job {path}: the job file or its input changed since the process "
                            "started (fingerprint mismatch); restore them, or start a new process")
        self.id_field = str(inp.get("id", ""))
        self.expected_field = str(inp.get("expected", ""))
        if "template" not in prompt:
            raise TaskError(f"job file {path}: [prompt] template is required")
        self.system = str(prompt.get("system", "Answer the question in exactly the format asked "
                                               "for, and nothing else."))
        self.template = str(prompt["template"])
        needed = _fields(self.template)
        for field in [f for f in (self.id_field, self.expected_field) if f] + needed:
            for i, item in enumerate(self.items):
                if field not in item:
                    raise TaskError(f"job {path}: item {i} has no field {field!r}")
        self.format = AnswerFormat.build(str(answer.get("regex", "")), answer.get("schema"),
                                         str(answer.get("type", "str")))
        self.default_token_cap = int(answer.get("max_tokens", 64))
        command = check.get("command")
        if command is not None and (not isinstance(command, list) or not command
                                    or not all(isinstance(a, str) for a in command)):
            raise TaskError("[check] command must be a list of strings (argv; no shell)")
        self.check_command: list[str] = list(command or [])
        self.check_timeout = float(check.get("timeout", 30))
        self.check_cwd = base
        self.results_path = (base / str(output["results"])) if "results" in output else None
        self.params: dict[str, Any] = {"file": str(path), "fingerprint": self.fingerprint}
        self.total_steps: int | None = len(self.items)

    @staticmethod
    def _load_items(inp: dict[str, Any], base: Path, digest: Any) -> list[dict[str, Any]]:
        kinds = [k for k in ("jsonl", "csv", "glob") if k in inp]
        if len(kinds) != 1:
            raise TaskError("[input] needs exactly one of jsonl, csv or glob")
        kind, value = kinds[0], str(inp[kinds[0]])
        if kind == "glob":
            files = sorted(p for p in base.glob(value) if p.is_file())
            if not files:
                raise TaskError(f"[input] glob {value!r} matches no file under {base}")
            cap = int(inp.get("max_chars", MAX_CHARS))
            items = []
            for p in files:
                data = p.read_bytes()
                digest.update(str(p.relative_to(base)).encode() + b"\0" + data)
                items.append({"path": str(p.relative_to(base)), "name": p.name,
                              "text": data.decode("utf-8", "replace")[:cap]})
            return items
        path = base / value
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise TaskError(f"[input] {kind} {path}: {exc}") from exc
        digest.update(data)
        text = data.decode("utf-8", "replace")
        if kind == "csv":
            return [dict(row) for row in csv.DictReader(text.splitlines())]
        items = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError as exc:
                raise TaskError(f"[input] {path} line {n}: not JSON ({exc})") from exc
            if not isinstance(item, dict):
                raise TaskError(f"[input] {path} line {n}: not a JSON object")
            items.append(item)
        if not items:
            raise TaskError(f"[input] {path} has no items")
        return items

    # --- the task contract -------------------------------------------------------------------

    def initial_state(self) -> int:
        return 0

    def is_done(self, state: int) -> bool:
        return state >= len(self.items)

    def prompt(self, state: int, prev_action: Any | None) -> Prompt:
        item = self.items[state]
        user = self.template.format_map({k: item[k] for k in _fields(self.template)})
        return Prompt(self.system, user, self.format.grammar)

    def parse(self, text: str) -> Parsed | RedFlag:
        value, why = self.format.read(text)
        return RedFlag("format", why) if why else Parsed(value, None)

    def validate(self, state: int, parsed: Parsed) -> Answer | RedFlag:
        if not 0 <= state < len(self.items):
            return RedFlag("invalid", f"no item {state}")
        if self.check_command:
            why = self._run_check(state, parsed.action)
            if why:
                return RedFlag("invalid", why)
        return Answer(answer_key(parsed.action), parsed.action, state + 1)

    def _run_check(self, index: int, answer: Any) -> str:
        # The model's answer goes to the command on stdin only: never into its arguments.
        payload = json.dumps({"index": index, "item": self.items[index], "answer": answer})
        try:
            proc = subprocess.run(self.check_command, input=payload, text=True,
                                  capture_output=True, timeout=self.check_timeout,
                                  cwd=self.check_cwd, check=False)
        except subprocess.TimeoutExpired:
            return f"check command ran past {self.check_timeout:g} s"
        except OSError as exc:
            return f"check command could not run: {exc}"
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip()[-300:]
            return f"check command exited {proc.returncode}: {tail}"
        return ""

    def state_to_json(self, state: int) -> Any:
        return state

    def state_from_json(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int) or not 0 <= data <= len(self.items):
            raise TaskError(f"not a position in this job's {len(self.items)} items: {data!r}")
        return data

    def action_from_json(self, data: Any) -> Any:
        return data

    def solver(self) -> Any:
        """The expected answers as a solver (calibration, audit), when the input has them."""
        if not self.expected_field:
            return None
        from app.core.process.tasks.job_oracle import job_oracle

        return job_oracle()

    # --- output ------------------------------------------------------------------------------

    def write_output(self, decisions: Iterable[tuple[int, Any]], directory: Path,
                     process_id: str) -> list[str]:
        lines = []
        for step, answer in decisions:
            rec: dict[str, Any] = {"index": step}
            if self.id_field:
                rec["id"] = self.items[step][self.id_field]
            rec["answer"] = answer
            lines.append(json.dumps(rec, ensure_ascii=False))
        path = self.results_path or directory / "results.jsonl"
        atomic_write_text(path, "".join(line + "\n" for line in lines))
        return [f"results: {path} ({len(lines):,} of {len(self.items):,} items answered)"]


def _factory(params: dict[str, Any]) -> JobTask:
    return JobTask(Path(params["file"]), str(params.get("fingerprint") or ""))


register_task("job", _factory, params=(
    Param("file", "path", help="the job's TOML file"),
    Param("fingerprint", "str", "", help="set when the process starts; checked on resume")))
