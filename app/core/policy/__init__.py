"""Who may run what (permissions, the shell policy) and what never leaves (redaction)."""
