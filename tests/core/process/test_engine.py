"""The step engine on scripted samplers: vote handling, red flags, escalation, budgets."""

from __future__ import annotations

from pathlib import Path

from app.core.agent.cancel import CancelToken
from app.core.process.audit import audit
from app.core.process.samplers import SampleRequest
from app.core.process.spec import ProcessBudget
from app.core.process.tasks.hanoi import HanoiTask, apply_move, fmt_move, fmt_state
from app.core.process.tasks.hanoi_oracle import strategy_move
from tests.core.process.helpers import (
    CounterTask,
    ScriptedSampler,
    counter_right,
    make_runner,
    records,
    run,
)


async def test_a_task_that_is_not_hanoi_runs_without_engine_changes(tmp_path: Path) -> None:
    sampler = ScriptedSampler(counter_right)
    runner, store = make_runner(tmp_path, CounterTask(25), [sampler], k=3)
    outcome = await run(runner)
    assert outcome.status == "finished" and outcome.step == 25 and outcome.state == 25
    decisions = [r for r in records(store) if r["r"] == "d"]
    assert [d["action"] for d in decisions] == list(range(1, 26))
    assert all(d["votes"] == {d["key"]: 3} for d in decisions)
    assert sampler.batches == [3] * 25  # k samples launched at once, then decided
    assert store.read_result() is not None


async def test_flagged_samples_are_resampled_and_never_counted(tmp_path: Path) -> None:
    def reply(req: SampleRequest) -> str | tuple[str, str]:
        if req.idx == 0:
            return "next is one more"  # format
        if req.idx == 1:
            return (f"next = {req.state + 1}", "length")  # right, but ran into the cap
        if req.idx == 2:
            return f"next = {req.state + 5}"  # breaks the rules
        return f"next = {req.state + 1}"

    sampler = ScriptedSampler(reply)
    runner, store = make_runner(tmp_path, CounterTask(3), [sampler], k=2)
    outcome = await run(runner)
    assert outcome.status == "finished"
    recs = records(store)
    step0 = [r for r in recs if r.get("step") == 0]
    flags = [r["flag"] for r in step0 if r["r"] == "f"]
    assert flags == ["format", "length", "invalid"]
    decision = next(r for r in step0 if r["r"] == "d")
    assert decision["votes"] == {"1": 2}  # only the two clean samples were counted
    assert decision["n"] == 5 and decision["flags"] == 3
    assert sampler.batches[:3] == [2, 2, 1]  # flagged samples were replaced, round after round
    assert outcome.counters["flagged"] == 9 and outcome.counters["flags"]["length"] == 3


async def test_first_sample_is_greedy_and_the_rest_use_tau(tmp_path: Path) -> None:
    sampler = ScriptedSampler(counter_right)
    runner, _ = make_runner(tmp_path, CounterTask(2), [sampler], k=4, tau=0.3)
    await run(runner)
    temps = [(r.step, r.idx, r.temperature) for r in sampler.requests]
    assert temps[:4] == [(0, 0, 0.0), (0, 1, 0.3), (0, 2, 0.3), (0, 3, 0.3)]
    assert len({r.seed for r in sampler.requests}) == len(sampler.requests)


async def test_disagreement_takes_further_rounds_until_ahead_by_k(tmp_path: Path) -> None:
    # Step 0 answers: 1, 2, 1, 2, 1, 1, 1 ... -> with k = 2, "1" wins at 4 vs 2.
    pattern = {1: 2, 3: 2}

    def reply(req: SampleRequest) -> str:
        return f"next = {req.state + pattern.get(req.idx, 1) if req.step == 0 else req.state + 1}"

    sampler = ScriptedSampler(reply)
    runner, store = make_runner(tmp_path, CounterTask(3), [sampler], k=2)
    outcome = await run(runner)
    assert outcome.status == "finished" and outcome.state == 3
    d0 = next(r for r in records(store) if r["r"] == "d" and r["step"] == 0)
    assert d0["votes"] == {"1": 4, "2": 2} and d0["rounds"] == 3
    assert sampler.batches[:3] == [2, 2, 2]


async def test_round_cap_escalates_then_stops_without_a_plurality_pick(tmp_path: Path) -> None:
    def split(req: SampleRequest) -> str:
        # 1, 2, 1, 2 ... but "1" always ahead by one: a plurality would pick it. We must not.
        return f"next = {req.state + (1 if req.idx % 2 == 0 else 2)}"

    first, second = ScriptedSampler(split, "small"), ScriptedSampler(split, "bigger")
    runner, store = make_runner(tmp_path, CounterTask(5), [first, second], k=3, max_rounds=3)
    outcome = await run(runner)
    assert outcome.status == "stopped" and outcome.step == 0
    assert "undecided" in outcome.reason and "bigger" in outcome.reason
    recs = records(store)
    assert [r["to"] for r in recs if r["r"] == "e"] == ["bigger", ""]
    assert not [r for r in recs if r["r"] == "d"]
    assert any(r["r"] == "x" for r in recs)
    assert len(first.batches) == 3 and len(second.batches) == 3


async def test_an_escalation_model_can_decide_what_the_first_could_not(tmp_path: Path) -> None:
    def split(req: SampleRequest) -> str:
        return f"next = {req.state + (1 if req.idx % 2 == 0 else 2)}"

    runner, store = make_runner(tmp_path, CounterTask(2),
                                [ScriptedSampler(split, "small"), ScriptedSampler(counter_right,
                                                                                  "bigger")],
                                k=2, max_rounds=2)
    outcome = await run(runner)
    assert outcome.status == "finished" and outcome.counters["escalations"] == 1
    first, last = [r for r in records(store) if r["r"] == "d"]
    assert first["esc"] == 1 and first["votes"] == {"1": 2}  # decided by "bigger" alone
    # At step 1 the split's "+2" overshoots the target, so it is flagged and "small" decides.
    assert "esc" not in last and last["flags"] >= 1


async def test_budgets_pause_and_a_resume_continues_to_the_same_result(tmp_path: Path) -> None:
    task = CounterTask(40)
    clean, _ = make_runner(tmp_path / "clean", task, [ScriptedSampler(counter_right)], k=2)
    reference = await run(clean)

    runner, _ = make_runner(tmp_path, task, [ScriptedSampler(counter_right)], k=2,
                            budget=ProcessBudget(max_steps=15))
    paused = await run(runner)
    assert paused.status == "paused" and paused.step == 15 and "step budget" in paused.reason
    again, _ = make_runner(tmp_path, task, [ScriptedSampler(counter_right)], k=2,
                           budget=ProcessBudget(max_steps=1000))
    done = await run(again)
    assert done.status == "finished" and done.chain == reference.chain

    tok, _ = make_runner(tmp_path, task, [ScriptedSampler(counter_right)], k=2, pid="t",
                         budget=ProcessBudget(max_tokens=20))
    out = await run(tok)
    assert out.status == "paused" and "token budget" in out.reason and out.step < 40


async def test_cancel_stops_cleanly_and_resumes_to_the_same_result(tmp_path: Path) -> None:
    task = CounterTask(30)
    reference = await run(make_runner(tmp_path / "ref", task,
                                      [ScriptedSampler(counter_right)])[0])
    cancel = CancelToken()
    sampler = ScriptedSampler(counter_right,
                              on_batch=lambda n: cancel.cancel() if n == 12 else None)
    runner, store = make_runner(tmp_path, task, [sampler])
    stopped = await runner.run(cancel)
    assert stopped.status == "stopped" and stopped.reason == "cancelled"
    cp = store.read_checkpoint()
    assert cp is not None and cp.status == "stopped" and cp.step == 11
    runner2, _ = make_runner(tmp_path, task, [ScriptedSampler(counter_right)])
    finished = await run(runner2)
    assert finished.status == "finished" and finished.chain == reference.chain


def _hanoi_reply(task: HanoiTask, wrong_at: int | None = None):  # type: ignore[no-untyped-def]
    def reply(req: SampleRequest) -> str:
        move = strategy_move(req.state, req.prev_action, task.disks)
        if req.step == wrong_at:
            move = (1, move[1], 3 - move[1] - move[2]) if move[0] == 1 else move
        after = apply_move(req.state, move)
        assert not isinstance(after, str)
        return f"move = {fmt_move(move)}\nnext_state = {fmt_state(after)}"
    return reply


async def test_a_consistently_wrong_legal_move_is_caught_by_the_step_count_and_audit(
        tmp_path: Path) -> None:
    task = HanoiTask(3)
    runner, store = make_runner(tmp_path, task, [ScriptedSampler(_hanoi_reply(task, 2))], k=2)
    outcome = await run(runner)
    assert outcome.status == "failed" and "without reaching the goal" in outcome.reason
    report = audit(store, task)
    assert report.errors >= 1 and report.first_errors[0]["step"] == 2 and not report.ok(7)


async def test_hanoi_runs_clean_and_the_audit_agrees(tmp_path: Path) -> None:
    task = HanoiTask(6)
    runner, store = make_runner(tmp_path, task, [ScriptedSampler(_hanoi_reply(task))], k=2)
    outcome = await run(runner)
    assert outcome.status == "finished" and outcome.step == 63
    report = audit(store, task)
    assert report.ok(63) and report.chain == outcome.chain


def test_processes_list_as_a_tree() -> None:
    from app.core.process.view import ProcessView, tree_order

    views = [ProcessView("child", parent="root"), ProcessView("root"),
             ProcessView("grandchild", parent="child"), ProcessView("orphan", parent="gone")]
    assert [(d, v.id) for d, v in tree_order(views)] == [
        (0, "root"), (1, "child"), (2, "grandchild"), (0, "orphan")]


async def test_progress_events_are_registered_core_events(tmp_path: Path) -> None:
    from app.core.agent.events import from_record, to_record
    from app.core.process.events import ProcessEnded, ProcessProgress

    seen: list[object] = []
    runner, _ = make_runner(tmp_path, CounterTask(30), [ScriptedSampler(counter_right)],
                            checkpoint_every=10)
    runner.listener = seen.append
    await run(runner)
    progress = [e for e in seen if isinstance(e, ProcessProgress)]
    assert [e.step for e in progress] == [10, 20, 30, 30]  # each checkpoint, then the last one
    assert isinstance(seen[-1], ProcessEnded) and seen[-1].status == "finished"
    assert from_record(to_record(progress[0])) == progress[0]


def test_the_engine_never_loads_a_solver() -> None:
    import subprocess
    import sys

    code = ("import sys\n"
            "import app.core.process.engine, app.core.process.samplers, app.core.process.pool\n"
            "from app.core.process.task import make_task\n"
            "make_task('hanoi', {'disks': 3})\n"
            "bad = [m for m in sys.modules if m.endswith(('oracle', 'audit', 'calibrate'))]\n"
            "print(bad)\n"
            "sys.exit(1 if bad else 0)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
