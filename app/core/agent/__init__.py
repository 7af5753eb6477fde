"""The turn loop: session, messages, events, hooks, cancellation, nudges."""
