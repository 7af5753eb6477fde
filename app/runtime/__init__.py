"""Sessions assembled from config and command-line flags, and logging. No Textual here."""
