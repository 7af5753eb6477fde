"""The base of the harness's parts (its mixins): what each of them uses of the Harness itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from app.core.harness.config import HarnessConfig
    from app.core.harness.turn import _Turn
    from app.core.harness.workspace import WorkspaceIndex


class HarnessPart:
    if TYPE_CHECKING:  # provided by the Harness
        config: HarnessConfig
        workspace: Path
        turn: _Turn
        counters: dict[str, int]

        @property
        def index(self) -> WorkspaceIndex: ...

        def lines_to_quote(self) -> str: ...

        def about_workspace(self, request: str) -> bool: ...

        def _numbers_unsupported(self) -> bool: ...

        def _pending_files(self) -> list[str]: ...

        def pending_runs(self) -> list[str]: ...

        def unreported_output(self, answer: str) -> str: ...
