"""Everything a task of your own needs, in one import (see docs/processes.md, "Your own tasks")::

    from app.core.process.api import Answer, Param, Parsed, Prompt, RedFlag, TaskDef, TaskError

A task module defines a :class:`TaskDef` (or a bare factory) and is named on the command line as
``--task path/to/file.py:NAME``, or installed under the ``nanobot.tasks`` entry point group. The
solver (``Oracle``) and a simulated model (a sampler) are optional and used only by calibration,
the audit and dry runs; the engine never sees them.
"""

from __future__ import annotations

from app.core.agent.cancel import CancelToken
from app.core.process.loader import TaskDef
from app.core.process.oracle import Oracle, OracleCase
from app.core.process.params import Param
from app.core.process.samplers import SampleRequest, SampleResult
from app.core.process.task import Answer, Parsed, Prompt, RedFlag, Task, TaskError

__all__ = ["Answer", "CancelToken", "Oracle", "OracleCase", "Param", "Parsed", "Prompt", "RedFlag",
           "SampleRequest", "SampleResult", "Task", "TaskDef", "TaskError"]
