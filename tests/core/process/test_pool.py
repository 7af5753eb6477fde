"""The endpoint pool against real HTTP servers on 127.0.0.1: concurrency, a dying endpoint."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from app.core.agent.cancel import CancelToken
from app.core.process.audit import audit
from app.core.process.pool import EndpointPool, PoolMember
from app.core.process.samplers import SamplerError
from app.core.process.tasks.hanoi import HanoiTask, apply_move, fmt_move, fmt_state
from app.core.process.tasks.hanoi_oracle import strategy_move
from app.core.providers.openai_http import OpenAIHTTPProvider
from tests.core.process.helpers import make_runner, records
from tests.servers import sse, sse_server


class HanoiServer:
    """Answers a Hanoi step prompt by the strategy, like a perfect model; counts what it saw."""

    def __init__(self, disks: int, die_after: int | None = None) -> None:
        self.disks = disks
        self.die_after = die_after
        self.count = 0
        self.lock = threading.Lock()
        self.died = threading.Event()

    def __call__(self, body: dict[str, Any]) -> tuple[int, dict[str, str], list[str]]:
        with self.lock:
            self.count += 1
            if self.die_after is not None and self.count > self.die_after:
                self.died.set()
                return 503, {}, []
        user = body["messages"][1]["content"]  # type: ignore[index]
        prev_text, state_text = (ln.split(": ", 1)[1] for ln in user.splitlines())
        prev = None if prev_text.startswith("none") else tuple(json.loads(prev_text))
        state = tuple(tuple(p) for p in json.loads(state_text))
        move = strategy_move(state, prev, self.disks)  # type: ignore[arg-type]
        after = apply_move(state, move)  # type: ignore[arg-type]
        assert not isinstance(after, str)
        text = f"move = {fmt_move(move)}\nnext_state = {fmt_state(after)}"
        usage = "data: " + json.dumps({"choices": [], "usage": {"prompt_tokens": 50,
                                                                 "completion_tokens": 20}})
        return 200, {}, [sse({"content": text}), sse({}, "stop"), usage, "data: [DONE]"]


def _pool(urls: list[str], parallel: int = 2) -> EndpointPool:
    return EndpointPool([PoolMember(url, OpenAIHTTPProvider(url, "m", name=url,
                                                          native_tool_calls=False),
                                  parallel=parallel) for url in urls], label="served")


async def test_samples_spread_over_endpoints_and_a_dead_one_is_routed_around(
        tmp_path: Path) -> None:
    task = HanoiTask(5)
    healthy, dying = HanoiServer(5), HanoiServer(5, die_after=12)
    with sse_server(healthy) as (url_a, seen_a), sse_server(dying) as (url_b, seen_b):
        pool = _pool([url_a, url_b])
        runner, store = make_runner(tmp_path, task, [pool], k=3)
        outcome = await runner.run(CancelToken())
        await pool.aclose()
    assert outcome.status == "finished" and outcome.step == 31
    assert audit(store, task).ok(31)
    assert dying.died.is_set() and len(seen_b) >= 13 and len(seen_a) > 40
    recs = records(store)
    reissued = [r for r in recs if r.get("reissued")]
    assert reissued and all(r["ep"] == url_a for r in reissued)
    # Every request carried the grammar and its own seed; prompts share the system prefix.
    assert all("grammar" in b and isinstance(b["seed"], int) for b in seen_a)
    assert len({b["messages"][0]["content"] for b in seen_a}) == 1  # type: ignore[index]
    # A sample counts once, whichever endpoint answered it: counted votes equal k per step.
    for d in (r for r in recs if r["r"] == "d"):
        assert sum(d["votes"].values()) == 3


async def test_all_endpoints_down_stops_the_process_resumably(tmp_path: Path) -> None:
    task = HanoiTask(4)
    server = HanoiServer(4, die_after=10)
    with sse_server(server) as (url, _):
        pool = _pool([url], parallel=1)
        runner, store = make_runner(tmp_path, task, [pool], k=2)
        outcome = await runner.run(CancelToken())
        await pool.aclose()
    assert outcome.status == "stopped" and "endpoint(s) failed" in outcome.reason
    assert outcome.step == 5
    cp = store.read_checkpoint()
    assert cp is not None and cp.status == "stopped" and cp.step == 5


async def test_the_pool_respects_each_endpoints_parallelism() -> None:
    gate = threading.Event()
    active = 0
    peak = 0
    lock = threading.Lock()
    base = HanoiServer(3)

    def slow(body: dict[str, Any]) -> tuple[int, dict[str, str], list[str]]:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
            if active == 2:
                gate.set()
        gate.wait(timeout=30)
        try:
            return base(body)
        finally:
            with lock:
                active -= 1

    from app.core.process.samplers import SampleRequest

    task = HanoiTask(3)
    with sse_server(slow) as (url, seen):
        pool = _pool([url], parallel=2)
        prompt = task.prompt(task.initial_state(), None)
        reqs = [SampleRequest(prompt, 0.0, 50, i, 0, i) for i in range(6)]
        results = await pool.sample(reqs, CancelToken())
        await pool.aclose()
    assert peak == 2 and len(seen) == 6
    assert all(r.text.startswith("move = [1, 0, 2]") for r in results)


async def test_a_sampler_error_is_raised_when_nothing_answers() -> None:
    from app.core.process.samplers import SampleRequest
    from tests.servers import free_port

    task = HanoiTask(3)
    pool = _pool([f"http://127.0.0.1:{free_port()}/v1"], parallel=1)
    prompt = task.prompt(task.initial_state(), None)
    try:
        with pytest.raises(SamplerError, match="all 1 endpoint"):
            await pool.sample([SampleRequest(prompt, 0.0, 50, 1, 0, 0)], CancelToken())
    finally:
        await pool.aclose()
    assert pool.endpoints[0].failures == 1 and not pool.endpoints[0].alive


def test_cli_run_stops_when_its_server_dies_and_resumes_on_another(nanobot_home: Path) -> None:
    from tests.cli.test_cli import nanobot

    with sse_server(HanoiServer(4, die_after=10)) as (url, _):
        first = nanobot("process", "run", "hanoi", "--disks", "4", "--endpoint",
                        f"{url},parallel=2", "--k", "2", "--id", "moved")
    assert first.returncode == 4, first.stderr
    assert "endpoint(s) failed" in first.stdout and "process resume moved" in first.stdout
    with sse_server(HanoiServer(4)) as (url2, seen):
        second = nanobot("process", "resume", "moved", "--endpoint", url2)
    assert second.returncode == 0, second.stderr
    assert "finished at step 15" in second.stdout and seen
    audit_run = nanobot("process", "audit", "moved")
    assert audit_run.returncode == 0 and "0 wrong" in audit_run.stdout
    spec = json.loads((nanobot_home / "data" / "processes" / "moved" / "process.json").read_text())
    assert spec["sampler"]["endpoints"][0]["url"] == url2 and spec["k"] == 2
