"""What a project brings to a session: its instructions (AGENTS.md, CLAUDE.md) and an AGENTS.md
draft for /init. Skills live in :mod:`app.core.skills`."""
