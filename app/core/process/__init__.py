"""Million-step processes: MAKER voting over a task-agnostic step engine, with resumable state.

- ``task``: what a task provides (prompt builder, strict parser, rules-only validator, done test).
- ``vote`` and ``kmath``: first-to-ahead-by-k and the margin k it needs.
- ``engine``: the run loop; ``store`` and ``recovery``: files, checkpoints, resume.
- ``pool``: concurrent samples over endpoints; ``sim``: a simulated model for proofs.
- ``calibrate``, ``stats``: measuring p and storing it; ``oracle`` and ``audit``: solvers, kept
  out of the engine's reach.
"""
