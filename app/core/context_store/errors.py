"""Errors of the context store; their messages are shown to users and models as they are."""

from __future__ import annotations


class VolumeError(Exception):
    """Something about a volume or its inputs is wrong; the message says what and what to do."""
