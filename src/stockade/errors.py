"""Every error Stockade raises to its callers, in one tree.

::

    StockadeError                  anything Stockade raises on purpose (catch this one)
    ├── UsageError                 the caller asked for something that cannot be done as asked
    │   ├── SelectionError         a rule selection that is malformed or selects no rule
    │   ├── WaiversFileError       an exceptions (waivers) file that cannot be read or is malformed
    │   ├── ConfigFileError        a configuration file that cannot be read or parsed
    │   ├── TemplatePathError      a malformed ``--pod-template KIND.GROUP=PATH``
    │   └── RbacQueryError         an RBAC question that names no valid verb, resource or subject
    ├── SourceError                a source that could not start at all (no kubeconfig, unknown context)
    ├── SelectorError              a label selector the API server would refuse (bad shape, key, value or operator)
    └── StoreError                 the history store cannot be opened or used (``stockade.store.errors``)

What these are *not*: a file that cannot be parsed, a forbidden kind, an object of the wrong shape.
Those are :class:`~stockade.model.finding.InputProblem` values in the scan result, so one bad input
never stops the rest of the scan, and :meth:`~stockade.model.result.ScanResult.gate` reports them
(exit 3). A rule's own failure is an ``error`` finding. Waivers (``stockade.io/ignore`` annotations
and exceptions files) are never Python exceptions; they live in :mod:`stockade.engine.waivers`.
"""

from __future__ import annotations


class StockadeError(Exception):
    """Base of every error Stockade raises on purpose."""


class UsageError(StockadeError, ValueError):
    """The caller asked for something that cannot be done as asked (the CLI exits 2)."""


class SelectionError(UsageError):
    """The rule selection is malformed or matches no rule (a usage error, never a green run)."""


class WaiversFileError(UsageError):
    """An exceptions file that cannot be read, or an entry in it that is malformed."""


class ConfigFileError(UsageError):
    """A configuration file that cannot be read or is not valid YAML/JSON."""


class TemplatePathError(UsageError):
    """A pod-template path option that is not ``KIND.GROUP=path.to.template``."""


class RbacQueryError(UsageError):
    """An RBAC question whose verb, resource or subject cannot be understood."""


class SourceError(StockadeError):
    """A source that could not start at all, e.g. no kubeconfig or an unknown context."""


class SelectorError(StockadeError, ValueError):
    """A label selector the API server would refuse; the message names the faulty part.

    Raised by :mod:`stockade.model.selectors`. Code reading manifests catches it: a NetworkPolicy
    with such a selector selects no pod, a ClusterRole with one is not aggregated (an RBAC
    problem), and the fake API server answers 400.
    """
