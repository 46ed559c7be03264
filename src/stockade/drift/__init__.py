"""Drift: what git says against what the cluster runs (``stockade drift``, :func:`stockade.find_drift`)."""

from stockade.drift.compare import MISSING, DriftOptions, DriftReport, FieldChange, ObjectDrift, compare

__all__ = ["MISSING", "DriftOptions", "DriftReport", "FieldChange", "ObjectDrift", "compare"]
