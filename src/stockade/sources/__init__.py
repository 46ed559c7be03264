"""Sources turn the outside world (files, kustomize, helm, clusters, snapshots) into Resources.

Nothing else in Stockade reads files or talks to an API server. A source that fails says so with an
:class:`~stockade.model.finding.InputProblem`; it never returns "no objects" for a failed read.
"""
