"""Skills: task instructions in ``skills/<name>/SKILL.md`` (:mod:`.format`), found in the workspace
and the user's config dir and offered to the model lazily (:mod:`.library`)."""
