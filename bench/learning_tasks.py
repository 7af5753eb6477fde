"""The task stream of ``bench/learning.py``: six families of everyday tasks on the fixture
workspaces of ``bench/agent_fixtures.py``, graded by ``bench/agent_grade.py``.

Every task is a fresh copy of its fixture with some values drawn anew (a config constant, a
setting, an email address, a script's greeting), so a task is never the same as an earlier one
and an answer cannot be remembered: only the *kind* of work repeats. The stream interleaves the
families in a seeded random order. Families are the ones whose tasks take a small model more
than one step without help (an edit, a write, a command, a lookup in a file the request does not
name), since a task the harness answers in one step leaves nothing to learn.
"""

from __future__ import annotations

import json
import random
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.agent_fixtures import CONTACTS, FIXTURES
from bench.agent_grade import FileCheck, Task

FAMILIES = ("config-edit", "settings-edit", "create-file", "run-script", "contact-email",
            "find-def")
_WORDS = ("apricot", "harbour", "lantern", "meadow", "orbit", "pepper", "quartz", "saffron",
          "thistle", "velvet", "walnut", "zephyr", "cobalt", "juniper", "marble", "nutmeg")
_NAMES = ("Ada", "Bruno", "Chioma", "Dmitri", "Elena", "Farid", "Greta", "Hiro", "Ines",
          "Jomo", "Kira", "Luca", "Mina", "Nils", "Oona", "Pavel")
_DEFS = {"load_items": "inventory/storage.py", "save_items": "inventory/storage.py",
         "check_sku": "inventory/storage.py", "format_row": "inventory/report.py",
         "low_stock": "inventory/models.py"}


# Two phrasings per family: the learner has to find the kind of task, not a fixed sentence.
PHRASES: dict[str, tuple[str, ...]] = {
    "config-edit": ("Change {name} in inventory/config.py to {new}.",
                    "Please set {name} to {new} in inventory/config.py."),
    "settings-edit": ("Set {key} to {new} in settings.json.",
                      "In settings.json, change {key} to {new}."),
    "create-file": ("Create a file {name}.txt containing the word '{word}'.",
                    "Make a new file {name}.txt whose only content is '{word}'."),
    "run-script": ("Run {script}.py and tell me what it prints.",
                   "What does {script}.py print when I run it?"),
    "contact-email": ("What is {person}'s email address?",
                      "Find the email address of {person} in my contacts."),
    "find-def": ("In which file is the function {fn} defined?",
                 "Where is {fn} defined? Give me the file."),
}


@dataclass(frozen=True)
class StreamTask:
    n: int
    family: str
    task: Task
    prepare: Callable[[Path], None]  # changes the fresh fixture copy for this task


def _config_edit(rng: random.Random, n: int) -> StreamTask:
    values = {"TIMEOUT": rng.randint(10, 99), "MAX_RETRIES": rng.randint(2, 9),
              "LOW_STOCK_THRESHOLD": rng.randint(5, 30)}
    name = rng.choice(sorted(values))
    new = rng.choice([v for v in range(2, 200) if v != values[name]])

    def prepare(ws: Path) -> None:
        path = ws / "inventory" / "config.py"
        text = path.read_text()
        for key, value in values.items():
            text = re.sub(rf"^{key} = .*$", f"{key} = {value}", text, flags=re.MULTILINE)
        path.write_text(text)

    keep = [f"{k} = {v}" for k, v in values.items() if k != name]
    task = Task(f"L{n:03d}-config-edit", "edit", "inventory",
                rng.choice(PHRASES["config-edit"]).format(name=name, new=new),
                files=(FileCheck("inventory/config.py", (f"{name} = {new}", *keep),
                                 (f"{name} = {values[name]}",), python=True),))
    return StreamTask(n, "config-edit", task, prepare)


def _settings_edit(rng: random.Random, n: int) -> StreamTask:
    values = {"font_size": rng.randint(9, 24), "autosave_minutes": rng.randint(1, 30)}
    key = rng.choice(sorted(values))
    new = rng.choice([v for v in range(1, 60) if v != values[key]])

    def prepare(ws: Path) -> None:
        path = ws / "settings.json"
        data = json.loads(path.read_text())
        data.update(values)
        path.write_text(json.dumps(data, indent=2) + "\n")

    other = next(k for k in values if k != key)
    task = Task(f"L{n:03d}-settings-edit", "edit", "notes",
                rng.choice(PHRASES["settings-edit"]).format(key=key, new=new),
                files=(FileCheck("settings.json", (f'"{key}": {new}',
                                                   f'"{other}": {values[other]}'),
                                 json=True),))
    return StreamTask(n, "settings-edit", task, prepare)


def _create_file(rng: random.Random, n: int) -> StreamTask:
    name, word = rng.sample(_WORDS, 2)
    task = Task(f"L{n:03d}-create-file", "create", "notes",
                rng.choice(PHRASES["create-file"]).format(name=name, word=word),
                files=(FileCheck(f"{name}.txt", (word,)),))
    return StreamTask(n, "create-file", task, lambda ws: None)


def _run_script(rng: random.Random, n: int) -> StreamTask:
    script = rng.choice(_WORDS)
    who = rng.choice(_NAMES)

    def prepare(ws: Path) -> None:
        (ws / f"{script}.py").write_text(f'who = "{who}"\nprint("Good morning, " + who + "!")\n')

    task = Task(f"L{n:03d}-run-script", "run", "scripts",
                rng.choice(PHRASES["run-script"]).format(script=script), answer=(who,))
    return StreamTask(n, "run-script", task, prepare)


def _contact_email(rng: random.Random, n: int) -> StreamTask:
    person = rng.choice(CONTACTS)[0]
    emails = {name: f"{name.split()[0].lower()}.{rng.randint(10, 99)}@example.org"
              for name, _, _ in CONTACTS}

    def prepare(ws: Path) -> None:
        rows = "".join(f"{name},{emails[name]},{city}\n" for name, _, city in CONTACTS)
        (ws / "contacts.csv").write_text("name,email,city\n" + rows)

    task = Task(f"L{n:03d}-contact-email", "read", "notes",
                rng.choice(PHRASES["contact-email"]).format(person=person),
                answer=(emails[person],))
    return StreamTask(n, "contact-email", task, prepare)


def _find_def(rng: random.Random, n: int) -> StreamTask:
    fn = rng.choice(sorted(_DEFS))
    task = Task(f"L{n:03d}-find-def", "search", "inventory",
                rng.choice(PHRASES["find-def"]).format(fn=fn),
                answer=(_DEFS[fn].rsplit("/", 1)[1],))
    return StreamTask(n, "find-def", task, lambda ws: None)


MAKERS: dict[str, Callable[[random.Random, int], StreamTask]] = {
    "config-edit": _config_edit, "settings-edit": _settings_edit, "create-file": _create_file,
    "run-script": _run_script, "contact-email": _contact_email, "find-def": _find_def,
}


def stream(n_tasks: int, seed: int, families: tuple[str, ...] = FAMILIES) -> list[StreamTask]:
    """``n_tasks`` tasks, the families in equal shares, in a seeded random order."""
    rng = random.Random(seed)
    order = [families[i % len(families)] for i in range(n_tasks)]
    rng.shuffle(order)
    return [MAKERS[f](rng, n) for n, f in enumerate(order, start=1)]


def workspace(task: StreamTask, base: Path, work: Path) -> Path:
    """A fresh copy of the task's fixture (built under ``base`` once), prepared for it."""
    src = base / task.task.fixture
    if not src.exists():
        from bench.agent_fixtures import build

        build(task.task.fixture, src)
    dest = work / task.task.id
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(src, dest)
    task.prepare(dest)
    return dest


assert set(FIXTURES) >= {"inventory", "notes", "scripts"}
