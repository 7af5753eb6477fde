"""What goes into the window: compaction, the context gate, token estimates."""
