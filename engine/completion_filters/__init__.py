"""The post-processing filters of inline completions, one concern a module. :mod:`roost.engine.postprocess`
composes them and is what callers import; the predicates a streaming generation is stopped by are in
:mod:`.early_stops` and :mod:`.repetition` (``loops_within_line``)."""
