"""Tools the agent can call, and the registry that decides which ones a turn sees."""
