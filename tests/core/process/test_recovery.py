"""Resume after a crash: replay after the checkpoint, skip a torn tail, refuse damaged files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from app.core.process.spec import ProcessBudget
from app.core.process.store import ProcessStateError, ProcessStore
from tests.core.process.helpers import CounterTask, ScriptedSampler, counter_right, make_runner, run

TASK = CounterTask(60)


async def _reference(tmp_path: Path) -> str:
    runner, _ = make_runner(tmp_path / "reference", TASK, [ScriptedSampler(counter_right)])
    return (await run(runner)).chain


async def _crashed_after_checkpoint(tmp_path: Path) -> ProcessStore:
    """A log that holds decisions 0..29 and a checkpoint at step 10, as if killed at step 30
    before the next checkpoint was written."""
    runner, store = make_runner(tmp_path, TASK, [ScriptedSampler(counter_right)],
                                budget=ProcessBudget(max_steps=10))
    await run(runner)
    early = store.checkpoint_path.read_text()
    runner, store = make_runner(tmp_path, TASK, [ScriptedSampler(counter_right)],
                                budget=ProcessBudget(max_steps=30))
    await run(runner)
    store.checkpoint_path.write_text(early)
    runner, store = make_runner(tmp_path, TASK, [ScriptedSampler(counter_right)],
                                budget=ProcessBudget(max_steps=1000))
    return store


def _runner(tmp_path: Path):  # type: ignore[no-untyped-def]
    return make_runner(tmp_path, TASK, [ScriptedSampler(counter_right)])[0]


async def test_decisions_after_the_checkpoint_are_replayed_not_redone(tmp_path: Path) -> None:
    reference = await _reference(tmp_path)
    store = await _crashed_after_checkpoint(tmp_path)
    sampler = ScriptedSampler(counter_right)
    runner, _ = make_runner(tmp_path, TASK, [sampler])
    outcome = await run(runner)
    assert outcome.status == "finished" and outcome.chain == reference
    assert min(r.step for r in sampler.requests) == 30  # steps 10..29 came from the log
    assert store.read_result() is not None


async def test_a_torn_final_line_is_skipped(tmp_path: Path) -> None:
    reference = await _reference(tmp_path)
    store = await _crashed_after_checkpoint(tmp_path)
    # The write a kill cut short: no newline at the end.
    store.log_path.write_bytes(store.log_path.read_bytes() + b'{"r":"d","step":30,"key":"31","act')
    runner = _runner(tmp_path)
    notes: list[str] = []
    runner.listener = lambda ev: notes.append(getattr(ev, "text", ""))
    outcome = await run(runner)
    assert outcome.status == "finished" and outcome.chain == reference
    assert any("torn final line" in n for n in notes)
    assert all(line.startswith("{") and line.endswith("}")
               for line in store.log_path.read_text().splitlines())


@pytest.mark.parametrize(("damage", "why"), [
    ("garbage", "not a log record"),
    ("action", "does not match its action"),
    ("step", "where step"),
    ("illegal", "breaks the rules"),
])
async def test_a_damaged_line_stops_the_resume_with_the_line_and_a_remedy(
        tmp_path: Path, damage: str, why: str) -> None:
    reference = await _reference(tmp_path)
    store = await _crashed_after_checkpoint(tmp_path)
    lines = store.log_path.read_text().splitlines(keepends=True)
    target = next(i for i, ln in enumerate(lines) if '"r":"d"' in ln and '"step":20,' in ln)
    rec = json.loads(lines[target])
    if damage == "garbage":
        lines[target] = "#%@!\n"
    elif damage == "action":
        rec["action"] = 22
        lines[target] = json.dumps(rec) + "\n"
    elif damage == "step":
        rec["step"] = 21
        lines[target] = json.dumps(rec) + "\n"
    else:
        rec["action"], rec["key"] = 25, "25"
        lines[target] = json.dumps(rec) + "\n"
    store.log_path.write_text("".join(lines))
    before = store.log_path.read_bytes()
    with pytest.raises(ProcessStateError) as err:
        await run(_runner(tmp_path))
    line_no = target + 1
    assert f"line {line_no}" in err.value.message and why in err.value.message
    assert f"--truncate-log-at {line_no}" in err.value.hint and "step 20" in err.value.hint
    assert store.log_path.read_bytes() == before  # nothing was changed, nothing guessed

    outcome = await run(_runner(tmp_path), truncate_at_line=line_no)
    assert outcome.status == "finished" and outcome.chain == reference


async def test_a_hash_chain_break_is_detected(tmp_path: Path) -> None:
    store = await _crashed_after_checkpoint(tmp_path)
    text = store.log_path.read_text()
    lines = text.splitlines(keepends=True)
    target = next(i for i, ln in enumerate(lines) if '"r":"d"' in ln and '"step":15,' in ln)
    rec = json.loads(lines[target])
    rec["h"] = "0" * 16
    lines[target] = json.dumps(rec) + "\n"
    store.log_path.write_text("".join(lines))
    with pytest.raises(ProcessStateError, match="hash chain"):
        await run(_runner(tmp_path))


async def test_a_damaged_checkpoint_is_refused_and_the_backup_offered(tmp_path: Path) -> None:
    reference = await _reference(tmp_path)
    runner, store = make_runner(tmp_path, TASK, [ScriptedSampler(counter_right)],
                                budget=ProcessBudget(max_steps=20), checkpoint_every=5)
    await run(runner)
    data = json.loads(store.checkpoint_path.read_text())
    data["step"] = 3  # a plausible but altered value: only the checksum notices
    store.checkpoint_path.write_text(json.dumps(data))
    make_runner(tmp_path, TASK, [ScriptedSampler(counter_right)], budget=ProcessBudget(max_steps=999))
    with pytest.raises(ProcessStateError) as err:
        await run(_runner(tmp_path))
    assert "checksum" in err.value.message and "--from-backup" in err.value.hint
    assert "(step 20)" in err.value.hint  # the intact previous checkpoint
    outcome = await run(_runner(tmp_path), from_backup=True)
    assert outcome.status == "finished" and outcome.chain == reference


async def test_a_log_shorter_than_the_checkpoint_says_is_refused(tmp_path: Path) -> None:
    runner, store = make_runner(tmp_path, TASK, [ScriptedSampler(counter_right)],
                                budget=ProcessBudget(max_steps=20))
    await run(runner)
    store.log_path.write_bytes(store.log_path.read_bytes()[:100])
    with pytest.raises(ProcessStateError, match="truncated or replaced"):
        await run(_runner(tmp_path))


async def test_an_impossible_state_in_a_checkpoint_is_refused(tmp_path: Path) -> None:
    runner, store = make_runner(tmp_path, TASK, [ScriptedSampler(counter_right)],
                                budget=ProcessBudget(max_steps=20))
    await run(runner)
    cp = store.read_checkpoint()
    assert cp is not None
    cp.state = 999
    store.write_checkpoint(cp, None)  # a valid checksum over an impossible state
    with pytest.raises(ProcessStateError, match="impossible state"):
        await run(_runner(tmp_path))


async def test_a_second_runner_is_refused_while_one_holds_the_lock(tmp_path: Path) -> None:
    from app.core.process.store import ProcessBusy

    _, store = make_runner(tmp_path, TASK, [ScriptedSampler(counter_right)])
    store.lock()
    try:
        assert store.is_running()
        other = ProcessStore(store.dir)
        with pytest.raises(ProcessBusy):
            other.lock()
    finally:
        store.unlock()
    assert not ProcessStore(store.dir).is_running()


async def test_a_damaged_spec_is_reported(tmp_path: Path) -> None:
    _, store = make_runner(tmp_path, TASK, [ScriptedSampler(counter_right)])
    shutil.copy(store.spec_path, tmp_path / "spec.bak")
    store.spec_path.write_text('{"id": "p1", "k": ')
    with pytest.raises(ProcessStateError, match=r"process\.json is damaged"):
        store.load_spec()
