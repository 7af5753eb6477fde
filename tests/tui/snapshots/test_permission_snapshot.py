"""Snapshots of the tool-permission modal (an edit with its diff, and a command).

A small host app pushes the screen, so these do not change when the main layout does.
Update with: pytest tests/tui/snapshots/test_permission_snapshot.py --snapshot-update
"""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import Static

from app.core.policy.permissions import ApprovalRequest
from app.tui.screens.permission import PermissionScreen

DIFF = """--- a/app.py
+++ b/app.py
@@ -1,3 +1,3 @@
 def main():
-    print('hi')
+    print('hello')
 main()"""


class Host(App[None]):
    def __init__(self, request: ApprovalRequest) -> None:
        super().__init__()
        self.request = request

    def compose(self) -> ComposeResult:
        yield Static("conversation")

    def on_mount(self) -> None:
        self.push_screen(PermissionScreen(self.request))


def test_edit_permission(snap_compare: Any) -> None:
    req = ApprovalRequest(call_id="c1", tool="edit_file", label="Editing app.py",
                          arguments={"path": "app.py"}, preview=DIFF, session_scope="edit_file")
    assert snap_compare(Host(req), terminal_size=(90, 24))


def test_exec_permission(snap_compare: Any) -> None:
    req = ApprovalRequest(call_id="c2", tool="exec", label="Running hello.py",
                          arguments={"command": "python hello.py"}, preview="python hello.py",
                          session_scope="exec: python hello.py",
                          session_label="`python hello.py`")
    assert snap_compare(Host(req), terminal_size=(90, 24))


def test_exec_permission_nobody_can_judge(snap_compare: Any) -> None:
    command = "$(printf rm) -rf build"
    req = ApprovalRequest(call_id="c3", tool="exec", label="Running a command",
                          arguments={"command": command}, preview=command,
                          session_scope="exec: this exact command",
                          session_label="this exact command",
                          note="Nanobot cannot tell what this command runs: the program name is "
                               "computed at run time.")
    assert snap_compare(Host(req), terminal_size=(90, 24))
