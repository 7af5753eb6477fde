"""Files on disk: the event log, session files, pending messages."""
