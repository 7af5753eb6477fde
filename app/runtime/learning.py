"""The learner for this process and its installer (traces, recipes, budgets).

The learner lives as long as the runtime (its files are shared by every Nanobot process); one
:class:`LearningHook` on it serves every main session of a session factory (it keeps what it
tracks per session, so ``/new`` and resume go on learning); workers' sessions are not traced on
their own (their parent's turn records their depth and fan-out).
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from app.core.learning.hook import LearningHook
from app.core.learning.learner import Learner
from app.core.settings.config import Config, ConfigError, LearningConfig, load_config
from app.core.settings.paths import get_paths
from app.core.skills.library import SKILLS_DIR

log = logging.getLogger(__name__)


def make_learner(config: LearningConfig | None = None) -> Learner:
    """The learner on the state dir (traces, stats) and the user's skills folder (recipes)."""
    paths = get_paths()
    return Learner(config or LearningConfig(), state_dir=paths.state_dir,
                   skills_dir=paths.config_dir / SKILLS_DIR)


def learning_hook(config: Config, learner: Learner | None = None,
                  notices: list[str] | None = None) -> LearningHook | None:
    """The hook a session factory gives its main sessions (``SessionFactory.learning``).
    Learning is a side job: if its files cannot be opened (a full disk, a read-only home), the
    sessions run without it (None) and ``notices`` says why."""
    try:
        return LearningHook(learner or make_learner(config.learning))
    except (OSError, sqlite3.Error) as exc:
        log.warning("learning is off for this session: %s", exc)
        if notices is not None:
            notices.append(f"learning is off for this session: {exc}")
        return None


def trace_process(record: dict[str, Any]) -> None:
    """A million-step process's run into the trace log (``record_process``). Tracing never
    changes how a process ends: a config or disk problem is logged and the run goes on."""
    try:
        make_learner(load_config().learning).record_process(record)
    except (ConfigError, OSError) as exc:
        log.warning("process run not traced: %s", exc)
