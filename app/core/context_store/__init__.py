"""The context store: large inputs kept on disk as volumes the agent queries, never loads."""
