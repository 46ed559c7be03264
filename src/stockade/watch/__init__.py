"""Continuous posture: ``stockade watch`` and its parts.

The watcher lists and watches a cluster (:mod:`.informer`), re-judges what changed
(:mod:`stockade.engine.incremental`), records every finding transition in the history store, and
tells people and tools (:mod:`.sinks`, :mod:`.metrics`, :mod:`.policyreports`). In a cluster one
replica writes, elected through a Lease (:mod:`.leader`).
"""
