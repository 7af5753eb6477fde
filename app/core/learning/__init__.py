"""Learning from the agent's own work: traces of every turn (:mod:`.traces` on a hash-chained log,
:mod:`.chain_log`), per-kind statistics and budgets (:mod:`.stats`), recipes crystallised from
repeated successes (:mod:`.recipes`, run by :mod:`.recipe_run`), the learner that ties them
together (:mod:`.learner`) and the session hook that feeds it (:mod:`.hook`)."""
