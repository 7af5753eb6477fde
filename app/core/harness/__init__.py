"""The agent harness: mechanisms that let a small local model do real work reliably.

Each mechanism holds for any request (no phrase lists): the model sees what exists (a workspace
map) and what the request names (grounded reads), can only call real tools on real paths
(constrained arguments), decides small steps by vote, and its answers are checked against what it
read before they are shown. The session factory (``install_harness`` in
``app/runtime/factory.py``) is the one place a session gets them.
"""
