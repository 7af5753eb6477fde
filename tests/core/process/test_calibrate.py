"""Calibration: p with bounds, v, lengths, k_min and projections, stored in SQLite; no-go refusals."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.core.process import kmath
from app.core.process.calibrate import calibrate, token_cap_from
from app.core.process.sim import SimConfig, SimulatedHanoiSampler
from app.core.process.stats import latest_calibration, save_calibration
from app.core.process.tasks.hanoi import HanoiTask
from tests.cli.test_cli import nanobot


async def test_calibration_measures_p_among_valid_samples_and_derives_k() -> None:
    task = HanoiTask(8)
    sim = SimulatedHanoiSampler(8, config=SimConfig(p=0.9, malformed=0.3, overlong=0.1,
                                                    inconsistent=0.2), seed=1)
    report = await calibrate(task, sim, samples=400, temperature=0.1, steps=2 ** 20 - 1)
    assert report.samples == 400
    errors = 400 - report.valid - report.details["errors"].get("wrong valid answer", 0)
    assert report.valid + sum(report.details["flags"].values()) == 400
    # About 10% errors, 60% of them red-flagged: v near 0.94, p among valid near 0.96.
    assert 0.90 < report.valid_rate < 0.97 and 0.93 < (report.p_hat or 0) < 0.99
    assert report.p_low == pytest.approx(kmath.clopper_pearson_lower(report.correct,
                                                                     report.valid))
    assert report.p_low < report.p_wilson < (report.p_hat or 0)
    assert report.k_min == kmath.k_min(report.p_low, 2 ** 20 - 1, 0.95)
    assert report.exp_samples == pytest.approx(
        kmath.expected_votes(report.p_low, report.k_min) / report.valid_rate)
    assert report.verdict == "go" and errors > 0
    assert 0 < report.len_p50 <= report.len_p99 < report.token_cap


def test_token_cap_follows_the_p99_of_valid_lengths() -> None:
    assert token_cap_from([20] * 197 + [40] * 3, 500) == 50  # 1.25 * p99 (= 40)
    assert token_cap_from([20] * 99 + [40], 500) == 26  # p99 interpolates: 20.2
    assert token_cap_from([], 123) == 123
    assert token_cap_from([2, 3], 0) == 8


def test_cli_calibrate_stores_the_numbers_and_says_go_or_no_go(nanobot_home: Path) -> None:
    good = nanobot("process", "calibrate", "hanoi", "--disks", "6", "--samples", "300",
                   "--sampler", "sim", "--sim-p", "0.97")
    assert good.returncode == 0, good.stderr
    assert "Clopper-Pearson" in good.stdout and "verdict: go" in good.stdout
    assert "k_min = " in good.stdout and "projected" in good.stdout

    bad = nanobot("process", "calibrate", "hanoi", "--disks", "6", "--samples", "60",
                  "--sampler", "sim", "--sim-p", "0.4")
    assert bad.returncode == 3
    assert "no-go" in bad.stdout and "not above 0.5" in bad.stdout

    db = nanobot_home / "data" / "process_stats.db"
    rows = sqlite3.connect(db).execute(
        "SELECT model, samples, verdict, k_min FROM calibrations ORDER BY id").fetchall()
    assert rows[0][:3] == ("sim(p=0.97)", 300, "go") and rows[0][3] >= 1
    assert rows[1][:3] == ("sim(p=0.4)", 60, "no-go") and rows[1][3] is None


def test_a_run_on_a_no_go_model_is_refused_with_the_numbers(nanobot_home: Path,
                                                             model_path: Path) -> None:
    save_calibration({
        "task": "hanoi", "variant": "full", "params": {"disks": 3, "format": "full"},
        "model": "qwen2.5-coder-0.5b", "temperature": 0.1, "grammar": 1, "samples": 40,
        "valid": 40, "correct": 12, "p_hat": 0.3, "p_low": 0.185, "p_wilson": 0.19,
        "confidence": 0.95, "valid_rate": 1.0, "token_cap": 40, "steps": 7, "target": 0.95,
        "verdict": "no-go"})
    proc = nanobot("process", "run", "hanoi", "--disks", "3")
    assert proc.returncode == 3, proc.stderr
    assert "no-go" in proc.stderr and "0.1850" in proc.stderr and "12" not in proc.stdout
    assert not (nanobot_home / "data" / "processes").exists()

    missing = nanobot("process", "run", "hanoi", "--disks", "3", "--format", "move")
    assert missing.returncode == 2 and "no calibration" in missing.stderr


def test_latest_calibration_is_looked_up_by_task_variant_and_model(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    base = {"task": "hanoi", "params": {"disks": 3}, "temperature": 0.1, "grammar": 1,
            "samples": 10, "valid": 10, "correct": 10, "p_hat": 1.0, "p_low": 0.74,
            "p_wilson": 0.8, "confidence": 0.95, "valid_rate": 1.0, "token_cap": 40,
            "steps": 7, "target": 0.95, "verdict": "go"}
    save_calibration({**base, "variant": "full", "model": "a", "ts": 1.0}, db)
    save_calibration({**base, "variant": "full", "model": "a", "ts": 2.0, "p_low": 0.9}, db)
    save_calibration({**base, "variant": "move", "model": "a", "ts": 3.0, "p_low": 0.1}, db)
    row = latest_calibration("hanoi", "full", "a", db)
    assert row is not None and row["p_low"] == 0.9 and row["params"] == {"disks": 3}
    assert latest_calibration("hanoi", "full", "b", db) is None
