"""The declarative job: a TOML file, a 1,000-line JSONL, every answer voted, through the CLI."""

from __future__ import annotations

import json
import random
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from app.core.process.answer_format import AnswerFormat
from app.core.process.task import Parsed, RedFlag, TaskError, make_task
from tests.cli.test_cli import nanobot

# A stand-in model that reads only the prompt text, as a real one does: right 80% of the time,
# otherwise a near miss or a far miss (both pass the format: only the vote or a check command can
# reject them), chatter or a runaway.
SIM_MODEL = '''
import random, re
from app.core.process.api import SampleResult

class Adder:
    label = "sim-adder"

    async def sample(self, requests, cancel):
        out = []
        for req in requests:
            a, b = map(int, re.search(r"What is (\\d+) \\+ (\\d+)", req.prompt.user).groups())
            rng = random.Random(req.seed)
            u = rng.random()
            if u < 0.8:
                out.append(SampleResult(f"sum = {a + b}", 4, "stop", self.label))
            elif u < 0.9:
                out.append(SampleResult(f"sum = {a + b + rng.choice((-1, 1, 10))}", 4, "stop",
                                        self.label))
            elif u < 0.93:
                out.append(SampleResult("sum = 999", 4, "stop", self.label))
            elif u < 0.97:
                out.append(SampleResult(f"The sum is {a + b}.", 6, "stop", self.label))
            else:
                out.append(SampleResult("sum = " + "1" * 60, 64, "length", self.label))
        return out

    async def aclose(self):
        return None

def make(task, seed):
    return Adder()
'''


def _job(where: Path, items: int, *, check: bool = False, seed: int = 3) -> Path:
    rng = random.Random(seed)
    lines = []
    for i in range(items):
        a, b = rng.randrange(100), rng.randrange(100)
        lines.append(json.dumps({"id": f"q{i}", "a": a, "b": b, "sum": a + b}))
    (where / "questions.jsonl").write_text("\n".join(lines) + "\n")
    (where / "sim_model.py").write_text(SIM_MODEL)
    check_table = ""
    if check:
        # A rule, not the answer: two numbers under 100 never add up to more than 198.
        (where / "check.py").write_text(
            "import json, sys\n"
            "job = json.load(sys.stdin)\n"
            "sys.exit(0 if job['answer'] <= 198 else 'too big: ' + str(job['answer']))\n")
        check_table = f'[check]\ncommand = [{json.dumps(sys.executable)}, "check.py"]\n'
    toml = where / "adding.toml"
    toml.write_text(textwrap.dedent('''\
        name = "adding"
        [input]
        jsonl = "questions.jsonl"
        id = "id"
        expected = "sum"
        [prompt]
        system = "You add two numbers."
        template = "What is {a} + {b}? Reply with one line: sum = N"
        [answer]
        regex = 'sum = (\\d+)'
        type = "int"
        max_tokens = 8
        ''') + check_table)
    return toml


def test_a_toml_job_over_1000_jsonl_lines_runs_end_to_end_with_votes(
        nanobot_home: Path, tmp_path: Path) -> None:
    toml = _job(tmp_path, 1000)
    proc = nanobot("process", "run", "--task-file", str(toml), "--sampler-from",
                   str(tmp_path / "sim_model.py") + ":make", "--k", "3", "--id", "add1000")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "process add1000: adding" in proc.stdout
    results_path = nanobot_home / "data" / "processes" / "add1000" / "output" / "results.jsonl"
    assert f"results: {results_path} (1,000 of 1,000 items answered)" in proc.stdout
    results = [json.loads(line) for line in results_path.read_text().splitlines()]
    questions = [json.loads(line) for line in (tmp_path / "questions.jsonl").read_text().splitlines()]
    assert [r["index"] for r in results] == list(range(1000))
    assert [r["id"] for r in results] == [q["id"] for q in questions]
    assert [r["answer"] for r in results] == [q["sum"] for q in questions]

    log = [json.loads(line) for line in
           (results_path.parent.parent / "log.jsonl").read_text().splitlines()]
    decisions = [r for r in log if r["r"] == "d"]
    assert len(decisions) == 1000
    assert all(max(d["votes"].values()) >= 3 for d in decisions)  # every answer was voted on
    assert sum(len(d["votes"]) > 1 for d in decisions) > 10  # near misses lost their votes
    assert {r["flag"] for r in log if r["r"] == "f"} == {"format", "length"}

    audit = nanobot("process", "audit", "add1000")
    assert audit.returncode == 0 and "1,000 decisions, 0 wrong" in audit.stdout, audit.stdout
    status = nanobot("process", "status", "add1000")
    assert "finished" in status.stdout and "1,000 of 1,000" in status.stdout


def test_the_check_command_red_flags_answers_and_a_changed_input_stops_a_resume(
        nanobot_home: Path, tmp_path: Path) -> None:
    toml = _job(tmp_path, 40, check=True, seed=5)
    sampler = str(tmp_path / "sim_model.py") + ":make"
    proc = nanobot("process", "run", "--task-file", str(toml), "--sampler-from", sampler,
                   "--k", "2", "--id", "checked", "--max-steps", "25")
    assert proc.returncode == 5, proc.stdout + proc.stderr  # paused by the step budget
    assert "(25 of 40 items answered)" in proc.stdout
    path = nanobot_home / "data" / "processes" / "checked" / "log.jsonl"
    log = [json.loads(line) for line in path.read_text().splitlines()]
    checked = [r for r in log if r["r"] == "f" and r["flag"] == "invalid"]
    assert checked and all("check command exited 1: too big" in r["why"] for r in checked)

    questions = tmp_path / "questions.jsonl"
    questions.write_text(questions.read_text().replace('"a": ', '"a": 1', 1))
    resumed = nanobot("process", "resume", "checked", "--max-steps", "40")
    assert resumed.returncode == 2 and "changed since the process started" in resumed.stderr


def test_answer_formats_and_job_file_errors(tmp_path: Path) -> None:
    fmt = AnswerFormat.build(regex=r"(?P<city>[A-Z][a-z]+), (?P<cc>[A-Z]{2})")
    assert fmt.read("Lyon, FR\n") == ({"city": "Lyon", "cc": "FR"}, "")
    assert fmt.read("lyon, FR")[1].startswith("does not match")
    assert fmt.grammar.startswith("root ::= ")
    assert "no grammar" in AnswerFormat.build(regex=r"\bword").note
    schema = {"type": "object", "properties": {"label": {"enum": ["pos", "neg"]},
                                               "score": {"type": "integer", "minimum": 0}},
              "required": ["label"], "additionalProperties": False}
    sfmt = AnswerFormat.build(schema=schema)
    assert sfmt.read('{"label": "pos", "score": 3}') == ({"label": "pos", "score": 3}, "")
    assert "not one of" in sfmt.read('{"label": "meh"}')[1]
    assert "unexpected extra" in sfmt.read('{"label": "pos", "extra": 1}')[1]
    assert "label" in sfmt.grammar
    with pytest.raises(TaskError, match="unsupported keyword"):
        AnswerFormat.build(schema={"type": "object", "oneOf": []})

    (tmp_path / "rows.csv").write_text("name,colour\nsky,blue\ngrass,green\n")
    (tmp_path / "docs").mkdir()
    for n in range(3):
        (tmp_path / "docs" / f"d{n}.md").write_text(f"# doc {n}\n")

    def job(body: str) -> Any:
        path = tmp_path / "job.toml"
        path.write_text(textwrap.dedent(body))
        return make_task("job", {"file": str(path)})

    task = job('''\
        [input]
        csv = "rows.csv"
        [prompt]
        template = "What colour is the {name}? colour = WORD"
        [answer]
        schema = { type = "object", properties = { colour = { type = "string" } } }
        ''')
    assert task.total_steps == 2 and "the sky?" in task.prompt(0, None).user
    assert task.parse('{"colour": "blue"}') == Parsed({"colour": "blue"}, None)
    assert isinstance(task.parse("blue"), RedFlag)
    globbed = job('[input]\nglob = "docs/*.md"\n[prompt]\ntemplate = "{path}: {text}"\n'
                  '[answer]\nregex = "ok"\n')
    assert globbed.total_steps == 3 and globbed.prompt(2, None).user == "docs/d2.md: # doc 2\n"
    for body, expect in [
        ('[input]\ncsv = "rows.csv"\n[prompt]\ntemplate = "{nope}"\n[answer]\nregex = "x"\n',
         "has no field 'nope'"),
        ('[input]\ncsv = "rows.csv"\n[prompt]\ntemplate = "{name.__class__}"\n'
         '[answer]\nregex = "x"\n', "plain field name"),
        ('[input]\ncsv = "rows.csv"\n[prompt]\ntemplate = "x"\n[answer]\n', "exactly one of"),
        ('[input]\n[prompt]\ntemplate = "x"\n[answer]\nregex = "x"\n', "exactly one of jsonl"),
        ('[input]\ncsv = "rows.csv"\n[prompt]\ntemplate = "x"\n[answer]\nregex = "x"\n'
         '[check]\ncommand = "rm -rf /"\n', "list of strings"),
        ('[inputs]\n', "unknown key"),
        ('[input\n', "job file"),
    ]:
        with pytest.raises(TaskError, match=expect):
            job(body)
