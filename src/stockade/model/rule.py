"""A rule as data: its metadata and documentation (the check function lives with the rule)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from stockade.model.finding import Area, Severity, Stage

# In ``RuleSpec.reads``: the rule reads objects of every kind (the namespaces in use, every pod
# template, whose presence depends on owners of any kind), so any change can alter its result.
READS_ANY = "*"
# In ``RuleSpec.reads``: of objects of every kind, the rule reads only their placement (see
# :func:`stockade.model.inventory.placement_of`): which objects exist in which namespace, their
# controllers, and the service account their pod template runs as. Any other change to an object
# of a kind the rule does not name leaves its result alone, so a watcher does not re-run it.
READS_PLACEMENT = "*placement"
# The entries of ``reads`` that span every kind rather than name one.
EVERY_KIND_READS = frozenset({READS_ANY, READS_PLACEMENT})


class Scope(StrEnum):
    """What a rule is called with: a container, a pod template, an object, or the whole inventory."""

    CONTAINER = "container"
    POD = "pod"
    OBJECT = "object"
    INVENTORY = "inventory"


@dataclass(frozen=True, slots=True)
class RuleDoc:
    """The docstring, split into its sections."""

    what: str
    why: str
    example: str
    use_instead: str
    remediation: str
    references: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """What a report needs to know of a rule: everything but its check function."""

    id: str
    name: str
    title: str
    severity: Severity
    area: Area
    stage: Stage
    scope: Scope
    frameworks: Mapping[str, tuple[str, ...]]
    remediation: str
    doc: RuleDoc
    kinds: frozenset[str] | None = None  # object rules: the kinds it looks at
    # False: runs only when selected (by id, name, family, area, framework or `all`), e.g. the PSS
    # check rules, which restate what the WL rules report unless a PSS compliance view is wanted.
    default: bool = True
    since: str = "0.1.0"  # the release that introduced the id; an id never changes meaning
    deprecated: str | None = None  # why, and what replaces it; a deprecated rule runs only when named
    # The kinds the rule reads from the inventory besides the object it judges (for an inventory
    # rule: every kind it reads; READS_ANY: all of them; READS_PLACEMENT: the placement of all).
    # CustomResourceDefinitions are read by every rule (they decide which namespace an object is
    # in) and are not listed. Incremental evaluation re-runs the rule when an object of one of
    # these kinds changes; a test checks that a rule reads nothing it does not declare.
    reads: frozenset[str] = frozenset()
    # Whether the rule asks if the controller named in the judged object's ownerReferences is
    # present (NS-001 leaves out objects a controller in the scan creates).
    reads_owner: bool = False

    @property
    def family(self) -> str:
        return self.id.split("-", 1)[0]
