"""Who may run what (permissions, the shell policy: parse, then decide), what never leaves
(redaction, the environment of commands), and where web_fetch may connect."""
