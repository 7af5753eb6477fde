"""Test doubles for the process engine: a scripted sampler and a second, non-Hanoi task."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from app.core.agent.cancel import CancelToken
from app.core.process.engine import ProcessRunner, RunOutcome
from app.core.process.samplers import Sampler, SampleRequest, SampleResult
from app.core.process.spec import ProcessSpec
from app.core.process.store import ProcessStore
from app.core.process.task import Answer, Parsed, Prompt, RedFlag, Task, TaskError

Reply = tuple[str, str]  # (text, finish)


class ScriptedSampler:
    """Answers from ``reply(request) -> text`` or ``(text, finish)``; records every request."""

    def __init__(self, reply: Callable[[SampleRequest], str | Reply], label: str = "scripted",
                 on_batch: Callable[[int], None] | None = None) -> None:
        self.reply = reply
        self.label = label
        self.requests: list[SampleRequest] = []
        self.batches: list[int] = []
        self.on_batch = on_batch

    async def sample(self, requests: Sequence[SampleRequest],
                     cancel: CancelToken) -> list[SampleResult]:
        self.batches.append(len(requests))
        if self.on_batch is not None:
            self.on_batch(len(self.batches))
        out = []
        for r in requests:
            self.requests.append(r)
            got = self.reply(r)
            text, finish = (got, "stop") if isinstance(got, str) else got
            out.append(SampleResult(text, len(text.split()), finish, self.label))
        return out

    async def aclose(self) -> None:
        return None


class CounterTask:
    """Count from 0 to ``target``; each step adds 1 (right) or 2 (legal, wrong). Not Hanoi."""

    name = "counter"

    def __init__(self, target: int) -> None:
        self.target = target
        self.params: dict[str, Any] = {"target": target}
        self.total_steps: int | None = None
        self.default_token_cap = 8

    def initial_state(self) -> int:
        return 0

    def prompt(self, state: int, prev_action: Any | None) -> Prompt:
        return Prompt("Add one to the number. Reply 'next = N'.", f"number = {state}")

    def parse(self, text: str) -> Parsed | RedFlag:
        m = re.fullmatch(r"next = (0|[1-9][0-9]*)", text.strip())
        return Parsed(int(m[1]), None) if m else RedFlag("format", "not 'next = N'")

    def validate(self, state: int, parsed: Parsed) -> Answer | RedFlag:
        n = int(parsed.action)
        if n not in (state + 1, state + 2) or n > self.target:
            return RedFlag("invalid", f"{n} does not follow {state}")
        return Answer(str(n), n, n)

    def is_done(self, state: int) -> bool:
        return state == self.target

    def state_to_json(self, state: int) -> Any:
        return state

    def state_from_json(self, data: Any) -> int:
        if not isinstance(data, int) or not 0 <= data <= self.target:
            raise TaskError(f"not a counter state: {data!r}")
        return data

    def action_from_json(self, data: Any) -> int:
        if not isinstance(data, int):
            raise TaskError(f"not a counter action: {data!r}")
        return data


def counter_right(req: SampleRequest) -> str:
    return f"next = {req.state + 1}"


def make_runner(tmp_path: Path, task: Task, samplers: Sequence[Sampler], *, k: int = 2,
                pid: str = "p1", **spec_kw: Any) -> tuple[ProcessRunner, ProcessStore]:
    spec = ProcessSpec(id=pid, task=task.name, params=dict(task.params), k=k,
                       sampler={"kind": "test"}, token_cap=spec_kw.pop("token_cap", 64),
                       **spec_kw)
    root = tmp_path / "processes"
    store = (ProcessStore.open(pid, root) if (root / pid / "process.json").exists()
             else ProcessStore.create(spec, root))
    if spec_kw.get("budget") is not None:
        store.save_spec(spec)
    return ProcessRunner(store, spec, task, samplers), store


async def run(runner: ProcessRunner, **kw: Any) -> RunOutcome:
    return await runner.run(CancelToken(), **kw)


def records(store: ProcessStore) -> list[dict[str, Any]]:
    import json

    return [json.loads(line) for line in store.log_path.read_text().splitlines() if line]
