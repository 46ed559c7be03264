"""A large, realistic finding history in a Stockade history store, for the dashboard benchmark.

    python benchmarks/gen_dashboard_store.py postgresql://postgres@127.0.0.1/test     # 100k findings, 1M transitions
    python benchmarks/gen_dashboard_store.py /tmp/history.db --findings 500 --transitions 3000

The store (SQLite or PostgreSQL, any URL :meth:`FindingStore.open` takes) must hold no findings
yet. Same arguments and ``now``, same rows: one seeded ``random.Random`` draws everything.

How the data is drawn (defaults in brackets; every size is a parameter of :func:`fill`):

- Clusters [prod-eu, prod-us, staging] get findings in proportion 1 : 1/2 : 1/3 (the first
  largest; 54.5 / 27.3 / 18.2 %), 200 namespaces each (default, kube-system, monitoring,
  ingress-nginx, cert-manager, argocd, then team-000 …), findings spread over them by a Zipf-like
  weight (rank^-0.8, ranks shuffled per cluster).
- Object kinds by weight: Deployment 34, Pod 19, ServiceAccount 9, Namespace 9, StatefulSet 8,
  Role 7, ClusterRole 5, DaemonSet 5, NetworkPolicy 3, and 0.4 for the control-plane static Pods
  of kube-system. ClusterRole and Namespace are cluster-scoped (namespace NULL).
- Rules are real (``load_rules()``), drawn from those that apply to the kind: container and pod
  rules (container-privileges, registries, secrets, service accounts, PSS-022, NP-005, EW-001) for
  workloads, RBAC rules for roles, SA-003 / RB-015 / RB-017 for ServiceAccounts, Pod Security,
  NP-001 and mesh rules for Namespaces, the control-plane rules for the kube-apiserver,
  controller-manager, scheduler and etcd Pods, GO-001 (hand change in a GitOps namespace) for
  anything, NS-001 only in ``default``. Node-file, kubelet, Secret, Service, Ingress and
  ConfigMap rules are left out (other kinds). A rule's weight is 1 / 2 / 3.5 / 5 for critical /
  high / medium / low, times a log-normal(0, 0.8) factor per rule; a finding takes its rule's
  severity. Container-scoped rules name a container (index 0, the app: 80 %, 1 istio-proxy: 15 %,
  2 log-shipper: 5 %); pod-scoped ones name the first container when their path is in it. The fingerprint is the sha256 of rule, API group, kind, namespace, name, container
  and path (64 hex), unique per cluster (a repeated identity is drawn again).
- Transitions per finding: every finding opens (``opened``, from_state NULL). A "stable" count
  is drawn first: 1..7 transitions with weights 8, 46, 16, 14, 8, 5, 3 (mean 2.95). The rest of
  the total asked for goes to flapping findings (one per 60 transitions left over, picked three
  times as often among workloads), split by a Pareto(1.2) weight capped at 40: [12k findings,
  a few up to ~650 transitions each, a GitOps controller fighting hand edits]. When the stable
  counts exceed the total, random findings lose transitions instead. The total is exact.
- States: each step leaves its state: open → resolved 92 % / excepted 8 %; resolved → open
  (``reopened``) 95 % / excepted 5 %; excepted → open (``opened``, waiver gone) 50 % /
  resolved 50 %. The last state is chosen first: [15 %] of findings end open (findings with one
  transition must), [4 %] excepted (needs two transitions or more), the rest resolved; which
  findings end open or excepted is drawn weighted by severity (critical 0.5, high 0.8, medium 1,
  low 1.3, info 1.5: worse findings get fixed first).
- Times, over [90] days ending now: 30 % of findings open at the cluster's first scan (one
  instant, the start of the window), the others at a uniform time in it (flapping findings
  earlier: start + span·u²). Stable findings change after exponential gaps averaging 2 / 5 / 10 /
  16 / 20 days for critical / high / medium / low / info, squeezed to fit before now; flapping
  findings change at uniform times over an active stretch from their first appearance (to now for
  a third of them, else 35-100 % of the way there). The clusters' windows end 0, 4, 8 … minutes
  before now (their ``last_scan_at``).
- Finding rows agree with their transitions: ``state`` is the last to_state, ``first_seen`` the
  first transition's time; ``last_seen`` is the cluster's last scan for open and excepted
  findings, and for resolved ones the scan before the resolution (up to an hour before it, never
  before the previous transition).
- Transitions: ``changed_by`` is the namespace's deploy tool (argocd-application-controller,
  helm or kubectl-client-side-apply, prod clusters mostly Argo CD) 62 %, kubectl-edit 18 %,
  kubectl-patch 4 %, a person (user@example.com, from an audit log) 4 %,
  kube-controller-manager 5 %, unknown (NULL) 7 %; the first scan's are the deploy tool.
  ``resource_version`` follows each cluster's etcd revision (25 writes/s on prod clusters, 6 on
  others), taken up to five minutes before the change. ``object_state_id`` is NULL. Ids
  follow time (findings by first_seen, transitions by time), as the store assigns them.
- Waivers (on ``excepted`` transitions): 85 % from ``exceptions.yaml#N`` (the entry fixed by rule
  and namespace, its reason by entry) with an expiry date, 15 % an ``annotation`` without one.
  A waiver followed by a reopening expired that day (65 %) or was removed earlier; one followed
  by a resolution expires 14-180 days after it. Findings excepted now: 12 % of the dated waivers
  already expired, 25 % expire within 14 days, the rest in 15-180 days.
- One cluster view per cluster (``record_view``), from a real scan of ``examples/demo``.

Loading: PostgreSQL through ``COPY`` (text format) on one connection, then the id sequences
set past the rows and the tables written ``ANALYZE``d; SQLite through ``executemany`` in one transaction.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import heapq
import itertools
import random
import sys
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, insert, select, text, update

import stockade
from stockade.model.rule import Scope
from stockade.rules.base import Rule
from stockade.rules.registry import load_rules
from stockade.store import FindingStore, State
from stockade.store.engine import WRITE
from stockade.store.lifecycle import change_of
from stockade.store.schema import clusters as clusters_table
from stockade.store.schema import findings as findings_table
from stockade.views import build_view, stages_of

DEFAULT_CLUSTERS = ("prod-eu", "prod-us", "staging")
DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo"

OPEN_SHARE = 0.15
EXCEPTED_SHARE = 0.04
BASELINE_SHARE = 0.30
STABLE_COUNTS = (1, 2, 3, 4, 5, 6, 7)
STABLE_WEIGHTS = (8, 46, 16, 14, 8, 5, 3)
FLAP_SHARE = 60  # one flapping finding per this many transitions left over
FLAP_ALPHA = 1.2
FLAP_CAP = 40.0
NAMESPACES = 200
SYSTEM_NAMESPACES = ("default", "kube-system", "monitoring", "ingress-nginx", "cert-manager", "argocd")
CLUSTER_END_STEP = 4 * 60  # seconds between the clusters' last scans
SCAN_INTERVAL = 3600  # seconds: resolved findings were last seen up to this long before resolution
RV_LAG = 300  # seconds: an object's resourceVersion is from up to this long before the change
FILE_WAIVER_SHARE = 0.85
EXCEPTION_ENTRIES = 180

US = 1_000_000
DAY_US = 86_400 * US

# State codes in the generator: indexes into STATES.
OPEN, EXCEPTED, RESOLVED = 0, 1, 2
STATES = (State.OPEN, State.EXCEPTED, State.RESOLVED)
# From a state, the next one: (state, probability) pairs, the second taken when the first is not.
NEXT = {OPEN: (RESOLVED, 0.92, EXCEPTED), RESOLVED: (OPEN, 0.95, EXCEPTED), EXCEPTED: (OPEN, 0.50, RESOLVED)}
CHANGES = {
    (before, after): change_of(None if before is None else STATES[before], STATES[after]).value
    for before in (None, OPEN, EXCEPTED, RESOLVED)
    for after in (OPEN, EXCEPTED, RESOLVED)
    if before != after
}

SEVERITY_RULE_WEIGHT = {"critical": 1.0, "high": 2.0, "medium": 3.5, "low": 5.0, "info": 5.0}
SEVERITY_KEEP_WEIGHT = {"critical": 0.5, "high": 0.8, "medium": 1.0, "low": 1.3, "info": 1.5}
SEVERITY_GAP_DAYS = {"critical": 2.0, "high": 5.0, "medium": 10.0, "low": 16.0, "info": 20.0}

WORDS = (
    "api", "web", "worker", "payments", "checkout", "cart", "search", "auth", "billing", "orders",
    "inventory", "gateway", "notifications", "reports", "ledger", "catalog", "pricing", "frontend",
    "backend", "scheduler", "queue", "cache", "etl", "ml-serving", "recommender", "images", "uploads",
    "mailer", "webhooks", "metrics-adapter", "audit", "users", "sessions", "profile", "shipping",
    "tax", "fraud", "graphql", "admin-ui", "exporter",
)  # fmt: skip
STATEFULSETS = ("postgres", "redis", "kafka", "zookeeper", "elasticsearch", "rabbitmq", "mongodb", "minio")
DAEMONSETS = ("fluent-bit", "node-exporter", "datadog-agent", "falco", "csi-node", "cilium")
SIDECARS = ("istio-proxy", "log-shipper")
ROLE_SUFFIXES = ("deployer", "reader", "ci", "operator", "admin", "secrets-reader")
CLUSTER_ROLES = (
    "ci-deployer", "argocd-manager", "prometheus", "fluent-bit", "cert-manager-controller",
    "ingress-nginx", "external-dns", "velero", "cluster-autoscaler", "keda-operator", "kyverno",
    "vault-auth", "crossplane", "tekton-pipelines", "platform-admin", "oncall-breakglass",
)  # fmt: skip
POLICIES = ("default-deny", "allow-ingress", "allow-prometheus", "allow-dns", "allow-same-namespace")
CONTROL_PLANE = {
    "apiserver": "kube-apiserver",
    "controller-manager": "kube-controller-manager",
    "scheduler": "kube-scheduler",
    "etcd": "etcd",
}
USERS = ("alice", "bob", "chen.wei", "dana", "erik.s", "fatima", "gus", "hana", "ivan", "jo")
TOOLS_PROD = (("argocd-application-controller", 0.65), ("helm", 0.90), ("kubectl-client-side-apply", 1.0))
TOOLS_OTHER = (("helm", 0.45), ("kubectl-client-side-apply", 0.75), ("argocd-application-controller", 1.0))
FILE_REASONS = (
    "Vendor image needs root until the 2.4 release (VEND-1182)",
    "Node agent reads host /proc and /sys for metrics",
    "CSI driver mounts the node's kubelet directory",
    "Legacy batch job, decommission planned for Q3",
    "Break-glass role for the on-call team, reviewed monthly",
    "Accepted risk: internal-only service behind the VPN",
    "Migration to workload identity in progress (PLAT-311)",
    "Log collector needs hostPath for container logs",
    "Third-party operator requires cluster-wide access",
    "Temporary: incident 2231 follow-up",
    "Mesh sidecar injection blocked by the vendor chart",
    "Security review SR-88 granted until the rewrite ships",
)  # fmt: skip
ANNOTATION_REASONS = (
    "approved by platform security",
    "needed for the debug tooling",
    "known issue, tracked upstream",
    "risk accepted by the service owner",
)

# (kind, apiVersion, namespaced, weight); "control-plane" is a Pod in kube-system.
KINDS = (
    ("Deployment", "apps/v1", True, 34.0),
    ("Pod", "v1", True, 19.0),
    ("ServiceAccount", "v1", True, 9.0),
    ("Namespace", "v1", False, 9.0),
    ("StatefulSet", "apps/v1", True, 8.0),
    ("Role", "rbac.authorization.k8s.io/v1", True, 7.0),
    ("ClusterRole", "rbac.authorization.k8s.io/v1", False, 5.0),
    ("DaemonSet", "apps/v1", True, 5.0),
    ("NetworkPolicy", "networking.k8s.io/v1", True, 3.0),
    ("control-plane", "v1", True, 0.4),
)
KIND_WEIGHTS = list(itertools.accumulate(weight for *_, weight in KINDS))
WORKLOADS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "Pod"})

# Where in a container or pod spec a rule looks (others: securityContext).
CONTAINER_PATHS = {
    "WL-001": "securityContext.privileged",
    "WL-002": "securityContext.allowPrivilegeEscalation",
    "WL-003": "securityContext.runAsNonRoot",
    "WL-004": "securityContext.capabilities.add",
    "WL-005": "securityContext.capabilities.drop",
    "WL-010": "ports[0].hostPort",
    "WL-011": "securityContext.readOnlyRootFilesystem",
    "WL-012": "securityContext.seccompProfile.type",
    "WL-013": "securityContext.appArmorProfile.type",
    "WL-014": "resources.limits.memory",
    "WL-015": "resources.limits.cpu",
    "WL-016": "resources.requests",
    "IM-001": "image",
    "IM-002": "image",
    "IM-003": "image",
    "IM-004": "imagePullPolicy",
    "SC-001": "env[2].value",
    "SC-003": "envFrom[0].secretRef",
}
POD_PATHS = {
    "WL-006": "hostPID",
    "WL-007": "hostIPC",
    "WL-008": "hostNetwork",
    "WL-009": "volumes[1].hostPath",
    "SA-001": "serviceAccountName",
    "SA-002": "automountServiceAccountToken",
    "PSS-001": "hostNetwork",
    "PSS-002": "containers[0].securityContext.privileged",
    "PSS-003": "containers[0].securityContext.capabilities.add",
    "PSS-004": "volumes[0].hostPath",
    "PSS-005": "containers[0].ports[0].hostPort",
    "PSS-009": "securityContext.seccompProfile.type",
    "PSS-013": "volumes[0]",
    "PSS-014": "containers[0].securityContext.allowPrivilegeEscalation",
    "PSS-015": "securityContext.runAsNonRoot",
    "PSS-016": "securityContext.runAsUser",
    "PSS-017": "securityContext.seccompProfile",
    "PSS-018": "containers[0].securityContext.capabilities.drop",
    "PSS-022": "metadata",
    "NP-005": "metadata.labels",
    "EW-001": "metadata.annotations",
}


class StoreNotEmptyError(RuntimeError):
    """The store already holds findings: generated ones would mix with them."""


@dataclass(frozen=True, slots=True)
class FillSummary:
    """What :func:`fill` wrote. ``states``: findings by final state; ``clusters``: per cluster,
    its findings and transitions and its findings by state; ``changes``: transitions by change."""

    url: str
    findings: int
    transitions: int
    states: dict[str, int]
    changes: dict[str, int]
    clusters: dict[str, dict[str, int]]
    generate_seconds: float
    load_seconds: float
    elapsed: float

    def lines(self) -> Iterator[str]:
        yield f"store {self.url}"
        yield f"{self.findings:,} findings, {self.transitions:,} transitions in {self.elapsed:.1f} s"
        yield f"  (generated in {self.generate_seconds:.1f} s, loaded in {self.load_seconds:.1f} s)"
        yield "states:  " + ", ".join(f"{state} {count:,}" for state, count in self.states.items())
        yield "changes: " + ", ".join(f"{change} {count:,}" for change, count in self.changes.items())
        for name, counts in self.clusters.items():
            yield f"  {name}: " + ", ".join(f"{key} {value:,}" for key, value in counts.items())


@dataclass(slots=True)
class _Cluster:
    name: str
    start: int  # microseconds since the epoch: its first scan
    end: int  # its last scan
    prod: bool
    namespaces: list[str]
    namespace_weights: list[float]  # cumulative
    tools: dict[str, str]  # each namespace's deploy tool
    rv_base: int
    rv_rate: int
    fingerprints: set[str] = field(default_factory=set)


@dataclass(slots=True)
class _Finding:
    cluster: int
    fingerprint: str
    rule_id: str
    severity: str
    api_version: str
    kind: str
    namespace: str | None
    name: str
    container: str | None
    path: str
    message: str
    tool: str
    flapping: bool = False
    count: int = 1
    final: int = OPEN
    times: list[int] = field(default_factory=list)
    states: list[int] = field(default_factory=list)
    last_seen: int = 0
    id: int = 0


@dataclass(frozen=True, slots=True)
class _Pool:
    """The rules that apply to a kind, with cumulative weights for ``random.choices``."""

    rules: list[Rule]
    weights: list[float]


def fill(
    url: str,
    *,
    findings: int = 100_000,
    transitions: int = 1_000_000,
    clusters: Sequence[str] = DEFAULT_CLUSTERS,
    days: int = 90,
    seed: int = 1,
    now: dt.datetime | None = None,
) -> FillSummary:
    """Fill the empty store at ``url`` with ``findings`` findings and exactly ``transitions``
    transitions over ``clusters`` and the ``days`` before ``now`` (see the module docstring).
    Raises :class:`StoreNotEmptyError` when the store holds findings already."""
    if findings < 1:
        raise ValueError("findings must be at least 1")
    if transitions < findings:
        raise ValueError(f"transitions ({transitions}) must be at least findings ({findings}): each finding opens")
    if days < 1:
        raise ValueError("days must be at least 1")
    if not clusters or len(set(clusters)) != len(clusters):
        raise ValueError("clusters must be distinct names, at least one")
    now = dt.datetime.now(dt.UTC) if now is None else now
    if now.tzinfo is None:
        raise ValueError(f"now must be an aware datetime, got {now.isoformat()}")
    started = time.perf_counter()
    with FindingStore.open(url) as store:
        with store.engine.connect() as conn:
            held = conn.scalar(select(func.count()).select_from(findings_table))
        if held:
            raise StoreNotEmptyError(f"the store already holds {held:,} findings; fill an empty one")
        rng = random.Random(seed)
        end = (now - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
        cells = _clusters(rng, clusters, end, days)
        made = _generate(rng, cells, findings, transitions)
        rows = _rows(rng, cells, made, transitions)
        generated = time.perf_counter()
        _load(store, cells, *rows)
        content = build_view(stockade.scan([stockade.FileSource([str(DEMO)])]), live=False)
        for cell in cells:
            store.record_view(cell.name, content, _datetime(cell.end), stages_of(content))
        if store.engine.dialect.name == "postgresql":
            with store.engine.connect() as conn:
                conn.execute(text("ANALYZE clusters, findings, transitions, cluster_views"))
                conn.commit()
        where = store.engine.url.render_as_string(hide_password=True)
    done = time.perf_counter()
    return _summary(where, cells, made, generated - started, done - generated, done - started)


# Drawing


def _clusters(rng: random.Random, names: Sequence[str], end: int, days: int) -> list[_Cluster]:
    cells = []
    teams = NAMESPACES - len(SYSTEM_NAMESPACES)
    for index, name in enumerate(names):
        namespaces = [*SYSTEM_NAMESPACES, *(f"team-{n:03d}" for n in range(max(teams, 0)))]
        ranks = list(range(1, len(namespaces) + 1))
        rng.shuffle(ranks)
        prod = "prod" in name
        tools = TOOLS_PROD if prod else TOOLS_OTHER
        cell_end = end - index * CLUSTER_END_STEP * US
        cells.append(
            _Cluster(
                name=name,
                start=end - days * DAY_US,
                end=cell_end,
                prod=prod,
                namespaces=namespaces,
                namespace_weights=list(itertools.accumulate(rank**-0.8 for rank in ranks)),
                tools={ns: _pick(tools, rng.random()) for ns in namespaces},
                rv_base=rng.randrange(10_000_000, 90_000_000),
                rv_rate=25 if prod else 6,
            )
        )
    return cells


def _pick(table: Sequence[tuple[str, float]], draw: float) -> str:
    """The first name whose cumulative share exceeds ``draw``."""
    for name, upto in table:
        if draw < upto:
            return name
    return table[-1][0]


def _apportion(total: int, weights: Sequence[float]) -> list[int]:
    """``total`` split in proportion to ``weights``, exactly (largest remainders, ties by index)."""
    whole = sum(weights)
    shares = [total * w / whole for w in weights]
    counts = [int(share) for share in shares]
    left = total - sum(counts)
    order = sorted(range(len(weights)), key=lambda i: (counts[i] - shares[i], i))
    for i in order[:left]:
        counts[i] += 1
    return counts


def _pools(rng: random.Random) -> dict[str, _Pool]:
    rules = load_rules()

    def pool(wanted: Callable[[Rule], bool]) -> _Pool:
        chosen = [rule for rule in rules.values() if wanted(rule)]
        weights = [SEVERITY_RULE_WEIGHT[rule.severity.value] * rng.lognormvariate(0.0, 0.8) for rule in chosen]
        return _Pool(chosen, list(itertools.accumulate(weights)))

    workload_areas = {"container-privileges", "registries", "secrets", "service-accounts"}
    workload_extra = {"PSS-022", "NP-005", "EW-001", "GO-001", "NS-001"}
    role_skip = {"RB-001", "RB-013", "RB-014", "RB-015", "RB-016", "RB-017", "RB-018"}
    control_plane = tuple(f"{prefix}-" for prefix in CONTROL_PLANE)

    def workload(rule: Rule) -> bool:
        pod_level = rule.scope in (Scope.CONTAINER, Scope.POD)
        return (rule.area.value in workload_areas and pod_level) or rule.id in workload_extra

    def role(rule: Rule) -> bool:
        return (rule.area.value == "rbac" and rule.id not in role_skip) or rule.id in {"GO-001", "NS-001"}

    return {
        "workload": pool(workload),
        "Role": pool(role),
        "ClusterRole": pool(lambda rule: (role(rule) and rule.id != "NS-001") or rule.id == "RB-018"),
        "ServiceAccount": pool(lambda rule: rule.id in {"SA-003", "RB-015", "RB-017", "GO-001", "NS-001"}),
        "NetworkPolicy": pool(lambda rule: rule.id == "GO-001"),
        "Namespace": pool(
            lambda rule: rule.id in {"PSS-020", "PSS-021", "PSS-023", "NP-001", "EW-002", "EW-004", "GO-001"}
        ),
        "control-plane": pool(lambda rule: rule.area.value == "control-plane" and rule.name.startswith(control_plane)),
    }


def _suffix(rng: random.Random, length: int) -> str:
    return "".join(rng.choices("bcdfghjklmnpqrstvwxz2456789", k=length))


def _object(rng: random.Random, kind: str, namespace: str) -> tuple[str, str]:
    """An object name of ``kind`` and its application (a workload's first container), drawn from
    small pools so that objects carry several findings."""
    word = WORDS[min(int(rng.paretovariate(1.0)) - 1, len(WORDS) - 1)] if rng.random() < 0.6 else rng.choice(WORDS)
    if kind == "Deployment":
        return (word if rng.random() < 0.85 else f"{word}-v2"), word
    if kind == "StatefulSet":
        word = rng.choice(STATEFULSETS)
        return word, word
    if kind == "DaemonSet":
        word = rng.choice(DAEMONSETS)
        return word, word
    if kind == "Pod":
        draw = rng.random()
        if draw < 0.5:
            return f"{word}-{_suffix(rng, 10)}-{_suffix(rng, 5)}", word
        if draw < 0.8:
            word = rng.choice(STATEFULSETS)
            return f"{word}-{rng.randrange(3)}", word
        return f"{word}-migrate-{rng.randrange(28_000_000, 29_000_000)}-{_suffix(rng, 5)}", "migrate"
    if kind == "Role":
        return f"{word}-{rng.choice(ROLE_SUFFIXES)}", word
    if kind == "ClusterRole":
        name = rng.choice(CLUSTER_ROLES) if rng.random() < 0.7 else f"{namespace}-{rng.choice(ROLE_SUFFIXES)}"
        return name, word
    if kind == "ServiceAccount":
        return rng.choice(("default", word, f"{word}-ci")), word
    if kind == "NetworkPolicy":
        return (rng.choice(POLICIES) if rng.random() < 0.7 else f"allow-{word}"), word
    raise AssertionError(kind)


def _identity(rng: random.Random, cell: _Cluster, pools: Mapping[str, _Pool]) -> _Finding:
    """One finding's object, rule, container, path and message (its fingerprint may repeat)."""
    kind, api_version, namespaced, _ = rng.choices(KINDS, cum_weights=KIND_WEIGHTS)[0]
    namespace = rng.choices(cell.namespaces, cum_weights=cell.namespace_weights)[0]
    container: str | None = None
    if kind == "control-plane":
        pool = pools[kind]
        rule = rng.choices(pool.rules, cum_weights=pool.weights)[0]
        component = next(c for prefix, c in CONTROL_PLANE.items() if rule.name.startswith(f"{prefix}-"))
        kind, namespace, container = "Pod", "kube-system", component
        name = f"{component}-cp-{rng.randrange(1, 4)}"
        path = "spec.containers[0].command"
    else:
        pool = pools["workload" if kind in WORKLOADS else kind]
        rule = rng.choices(pool.rules, cum_weights=pool.weights)[0]
        if rule.id == "NS-001" and namespaced:
            namespace = "default"
        name, app = (namespace, namespace) if kind == "Namespace" else _object(rng, kind, namespace)
        if rule.id == "RB-015":  # a grant to the namespace's default ServiceAccount
            name = "default"
        path, container = _path(rng, kind, rule, app)
    tool = cell.tools[namespace]
    group = api_version.rpartition("/")[0]
    ns = namespace if namespaced else None
    key = "\x1f".join((rule.id, group, kind, ns or "", name, container or "", path))
    message = rule.title + (f" (container {container})." if container else ".")
    return _Finding(
        cluster=0,
        fingerprint=hashlib.sha256(key.encode()).hexdigest(),
        rule_id=rule.id,
        severity=rule.severity.value,
        api_version=api_version,
        kind=kind,
        namespace=ns,
        name=name,
        container=container,
        path=path,
        message=message,
        tool=tool,
    )


def _path(rng: random.Random, kind: str, rule: Rule, app: str) -> tuple[str, str | None]:
    """The rule's path in the object and the container it names, if any."""
    if kind in WORKLOADS:
        spec = "spec." if kind == "Pod" else "spec.template.spec."
        if rule.scope is Scope.CONTAINER:
            index = 0 if (draw := rng.random()) < 0.8 else 1 if draw < 0.95 else 2
            container = app if index == 0 else SIDECARS[index - 1]
            where = CONTAINER_PATHS.get(rule.id, "securityContext")
            return f"{spec}containers[{index}].{where}", container
        where = POD_PATHS.get(rule.id, "securityContext")
        return spec + where, app if where.startswith("containers[0]") else None
    if rule.id == "GO-001":
        return f"metadata.managedFields[{rng.randrange(4)}]", None
    if kind in ("Role", "ClusterRole"):
        return f"rules[{rng.randrange(6)}].{rng.choice(('verbs', 'resources'))}", None
    if kind == "ServiceAccount":
        return "automountServiceAccountToken" if rule.id == "SA-003" else "metadata.name", None
    if kind == "Namespace":
        if rule.id.startswith("PSS-"):
            return "metadata.labels['pod-security.kubernetes.io/enforce']", None
        return "metadata", None
    return "spec", None


def _generate(rng: random.Random, cells: list[_Cluster], count: int, total: int) -> list[_Finding]:
    """The findings with their transitions (times and states), ids assigned in time order."""
    pools = _pools(rng)
    made: list[_Finding] = []
    sizes = _apportion(count, [1 / (i + 1) for i in range(len(cells))])
    for index, (cell, size) in enumerate(zip(cells, sizes, strict=True)):
        for _ in range(size):
            finding = _identity(rng, cell, pools)
            for _attempt in range(50):
                if finding.fingerprint not in cell.fingerprints:
                    break
                finding = _identity(rng, cell, pools)
            else:
                finding.name = f"{finding.name}-{len(cell.fingerprints)}"
                finding.fingerprint = hashlib.sha256(f"{finding.fingerprint}/{finding.name}".encode()).hexdigest()
            cell.fingerprints.add(finding.fingerprint)
            finding.cluster = index
            made.append(finding)
    _counts(rng, made, total)
    _finals(rng, made)
    for finding in made:
        _timeline(rng, cells[finding.cluster], finding)
    made.sort(key=lambda f: (f.times[0], f.cluster))
    for number, finding in enumerate(made, start=1):
        finding.id = number
    return made


def _counts(rng: random.Random, made: list[_Finding], total: int) -> None:
    """Each finding's number of transitions, adding up to ``total`` exactly."""
    for finding in made:
        finding.count = rng.choices(STABLE_COUNTS, weights=STABLE_WEIGHTS)[0]
    excess = sum(f.count for f in made) - total
    if excess > 0:
        order = list(range(len(made)))
        rng.shuffle(order)
        while excess > 0:
            for i in order:
                cut = min(made[i].count - 1, excess, rng.randrange(1, 4))
                made[i].count -= cut
                excess -= cut
                if excess == 0:
                    break
    elif excess < 0:
        left = -excess
        flappers = min(len(made), max(1, round(left / FLAP_SHARE)))
        keys = [(rng.random() ** (1 / (3.0 if f.kind in WORKLOADS else 1.0)), i) for i, f in enumerate(made)]
        chosen = [i for _, i in heapq.nlargest(flappers, keys)]
        weights = [min(FLAP_CAP, rng.paretovariate(FLAP_ALPHA)) for _ in chosen]
        for i, extra in zip(chosen, _apportion(left, weights), strict=True):
            made[i].count += extra
            made[i].flapping = True


def _finals(rng: random.Random, made: list[_Finding]) -> None:
    """Each finding's last state: open and excepted quotas, drawn weighted by severity."""
    for finding in made:
        finding.final = OPEN if finding.count == 1 else RESOLVED
    forced = sum(1 for f in made if f.count == 1)

    def draw(quota: int, eligible: list[int]) -> list[int]:
        keys = [(rng.random() ** (1 / SEVERITY_KEEP_WEIGHT[made[i].severity]), i) for i in eligible]
        return [i for _, i in heapq.nlargest(quota, keys)]

    opened = draw(max(0, round(len(made) * OPEN_SHARE) - forced), [i for i, f in enumerate(made) if f.count >= 3])
    for i in opened:
        made[i].final = OPEN
    waived = draw(round(len(made) * EXCEPTED_SHARE), [i for i, f in enumerate(made) if f.final == RESOLVED])
    for i in waived:
        made[i].final = EXCEPTED


def _timeline(rng: random.Random, cell: _Cluster, finding: _Finding) -> None:
    """The finding's transition times and states; its last_seen."""
    span = cell.end - cell.start
    n = finding.count
    if rng.random() < BASELINE_SHARE:
        first = cell.start
    elif finding.flapping:
        first = cell.start + int(span * rng.random() ** 2)
    else:
        first = cell.start + rng.randrange(span)
    first = max(cell.start, min(first, cell.end - n))
    room = cell.end - first
    times = [first]
    if n > 1 and not finding.flapping:
        mean = SEVERITY_GAP_DAYS[finding.severity] * DAY_US
        gaps = [1 + int(rng.expovariate(1 / mean)) for _ in range(n - 1)]
        if sum(gaps) > room:
            squeeze = room * rng.uniform(0.6, 1.0) / sum(gaps)
            gaps = [max(1, int(gap * squeeze)) for gap in gaps]
        times = list(itertools.accumulate(gaps, initial=first))
        if times[-1] > cell.end:  # squeezed too far by the one-microsecond floors
            times = [first, *sorted(first + offset for offset in rng.sample(range(1, room + 1), n - 1))]
    elif n > 1:  # a fight that lasts a while, then stops (or goes on to now)
        active = max(n, int(room * min(1.0, rng.uniform(0.35, 1.3))))
        times.extend(sorted(first + offset for offset in rng.sample(range(1, active + 1), n - 1)))
    finding.times = times
    finding.states = _states(rng, n, finding.final)
    if finding.final == RESOLVED:
        finding.last_seen = max(times[-2], times[-1] - rng.randrange(US, SCAN_INTERVAL * US))
    else:
        finding.last_seen = cell.end


def _states(rng: random.Random, n: int, final: int) -> list[int]:
    """A walk of ``n`` states from open to ``final``, each step to another state."""
    states = [OPEN]
    for step in range(1, n):
        here = states[-1]
        if step == n - 1:
            states.append(final)
            continue
        likely, share, other = NEXT[here]
        if step == n - 2 and final != here:  # the next-to-last state must differ from the last
            states.append(3 - here - final)
            continue
        states.append(likely if rng.random() < share else other)
    return states


# Writing


_Row = tuple[Any, ...]


def _rows(rng: random.Random, cells: list[_Cluster], made: list[_Finding], total: int) -> tuple[list[_Row], list[_Row]]:
    """Finding rows and transition rows: ids first, then the cluster's index (its id is known only
    once the transaction starts), times in microseconds since the epoch, dates in days."""
    finding_rows: list[_Row] = []
    keys: list[int] = []
    pending: list[_Row] = []
    width = len(made) + 1
    for finding in made:
        cell = cells[finding.cluster]
        finding_rows.append(
            (
                finding.id,
                finding.cluster,
                finding.fingerprint,
                finding.rule_id,
                finding.severity,
                finding.api_version,
                finding.kind,
                finding.namespace,
                finding.name,
                finding.container,
                finding.path,
                finding.message,
                STATES[finding.final].value,
                finding.times[0],
                finding.last_seen,
            )
        )
        before: int | None = None
        times, states = finding.times, finding.states
        for step, (at, state) in enumerate(zip(times, states, strict=True)):
            waiver: tuple[str | None, str | None, int | None] = (None, None, None)
            if state == EXCEPTED:
                following = (times[step + 1], states[step + 1]) if step + 1 < len(times) else None
                waiver = _waiver(rng, cell, finding, at, following)
            lag = min(at - cell.start, rng.randrange(RV_LAG * US))
            revision = cell.rv_base + (at - lag - cell.start) * cell.rv_rate // US
            keys.append(at * width + finding.id)
            pending.append(
                (
                    finding.cluster,
                    finding.id,
                    at,
                    CHANGES[(before, state)],
                    None if before is None else STATES[before].value,
                    STATES[state].value,
                    str(revision),
                    finding.tool if at == cell.start else _changed_by(rng, finding.tool),
                    *waiver,
                )
            )
            before = state
    assert len(pending) == total, (len(pending), total)
    order = sorted(range(len(pending)), key=keys.__getitem__)
    return finding_rows, [(number, *pending[i]) for number, i in enumerate(order, start=1)]


def _changed_by(rng: random.Random, tool: str) -> str | None:
    draw = rng.random()
    if draw < 0.62:
        return tool
    if draw < 0.80:
        return "kubectl-edit"
    if draw < 0.84:
        return "kubectl-patch"
    if draw < 0.88:
        return f"{rng.choice(USERS)}@example.com"
    if draw < 0.93:
        return "kube-controller-manager"
    return None


def _waiver(
    rng: random.Random, cell: _Cluster, finding: _Finding, at: int, following: tuple[int, int] | None
) -> tuple[str, str, int | None]:
    """Source, reason and expiry day (days since the epoch) of the waiver behind an ``excepted``
    transition at ``at``; ``following``: the next transition's time and state, if any."""
    if rng.random() >= FILE_WAIVER_SHARE:
        return "annotation", rng.choice(ANNOTATION_REASONS), None
    entry = zlib.crc32(f"{finding.rule_id}/{finding.namespace or finding.name}".encode()) % EXCEPTION_ENTRIES + 1
    source, reason = f"exceptions.yaml#{entry}", FILE_REASONS[entry % len(FILE_REASONS)]
    day = at // DAY_US
    if following is not None:
        next_at, next_state = following
        if next_state == OPEN:
            gone = next_at // DAY_US
            return source, reason, gone if rng.random() < 0.65 else gone + rng.randrange(10, 121)
        return source, reason, next_at // DAY_US + rng.randrange(14, 181)
    today = cell.end // DAY_US
    draw = rng.random()
    if draw < 0.12 and today - day >= 2:
        return source, reason, rng.randrange(day + 1, today)
    if draw < 0.37:
        return source, reason, today + rng.randrange(15)
    return source, reason, today + rng.randrange(15, 181)


def _load(store: FindingStore, cells: list[_Cluster], finding_rows: list[_Row], transition_rows: list[_Row]) -> None:
    """Write the clusters, findings and transitions in one transaction."""
    with store.engine.connect() as conn:
        conn.execution_options(**{WRITE: True})
        with conn.begin():
            ids = [_cluster_id(conn, cell) for cell in cells]
            driver = conn.connection.driver_connection
            if conn.dialect.name == "postgresql":
                _copy(driver, ids, finding_rows, transition_rows)
                for table in ("findings", "transitions"):
                    sequence = f"pg_get_serial_sequence('{table}', 'id')"
                    conn.execute(text(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))"))
            else:
                _executemany(driver, ids, finding_rows, transition_rows)


def _cluster_id(conn: Connection, cell: _Cluster) -> int:
    start, end = _datetime(cell.start), _datetime(cell.end)
    row = conn.execute(select(clusters_table).where(clusters_table.c.name == cell.name)).first()
    if row is None:
        values = {"name": cell.name, "created_at": start, "last_scan_at": end}
        return int(conn.execute(insert(clusters_table).values(values).returning(clusters_table.c.id)).scalar_one())
    changes = {"created_at": min(row.created_at, start), "last_scan_at": max(row.last_scan_at or end, end)}
    conn.execute(update(clusters_table).where(clusters_table.c.id == row.id).values(changes))
    return int(row.id)


FINDING_COLUMNS = (
    "id, cluster_id, fingerprint, rule_id, severity, api_version, kind, namespace, name, container, path, "
    "message, state, first_seen, last_seen"
)
TRANSITION_COLUMNS = (
    "id, cluster_id, finding_id, at, change, from_state, to_state, resource_version, changed_by, "
    "waiver_source, waiver_reason, waiver_expires"
)
COPY_BLOCK = 50_000  # rows per write to the COPY stream


class _Clock:
    """Microseconds since the epoch as the store's text: ``YYYY-MM-DD HH:MM:SS.ffffff``."""

    def __init__(self) -> None:
        self.days: dict[int, str] = {}

    def day(self, number: int) -> str:
        found = self.days.get(number)
        if found is None:
            found = self.days[number] = (dt.date(1970, 1, 1) + dt.timedelta(days=number)).isoformat()
        return found

    def stamp(self, us: int) -> str:
        number, rest = divmod(us, DAY_US)
        seconds, micro = divmod(rest, US)
        hours, seconds = divmod(seconds, 3600)
        minutes, seconds = divmod(seconds, 60)
        return f"{self.day(number)} {hours:02d}:{minutes:02d}:{seconds:02d}.{micro:06d}"


def _copy(driver: Any, ids: Sequence[int], finding_rows: list[_Row], transition_rows: list[_Row]) -> None:
    """COPY in text format (``ids``: each cluster's id, by index). Only rule titles may need escaping."""
    clock = _Clock()

    def n(value: object) -> str:
        return r"\N" if value is None else str(value)

    def finding_line(r: _Row) -> str:
        first, last = clock.stamp(r[13]), clock.stamp(r[14])
        return (
            f"{r[0]}\t{ids[r[1]]}\t{r[2]}\t{r[3]}\t{r[4]}\t{r[5]}\t{r[6]}\t{n(r[7])}\t{r[8]}\t{n(r[9])}\t{r[10]}\t"
            f"{_escape(r[11])}\t{r[12]}\t{first}+00\t{last}+00\n"
        )

    def transition_line(r: _Row) -> str:
        expires = r"\N" if r[11] is None else clock.day(r[11])
        return (
            f"{r[0]}\t{ids[r[1]]}\t{r[2]}\t{clock.stamp(r[3])}+00\t{r[4]}\t{n(r[5])}\t{r[6]}\t{r[7]}\t{n(r[8])}\t"
            f"{n(r[9])}\t{n(r[10])}\t{expires}\n"
        )

    with driver.cursor() as cursor:
        for table, columns, rows, line in (
            ("findings", FINDING_COLUMNS, finding_rows, finding_line),
            ("transitions", TRANSITION_COLUMNS, transition_rows, transition_line),
        ):
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for start in range(0, len(rows), COPY_BLOCK):
                    copy.write("".join(map(line, rows[start : start + COPY_BLOCK])).encode())


def _escape(value: str) -> str:
    """A text value for COPY's text format (rule titles are the only text not generated here)."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


def _executemany(driver: Any, ids: Sequence[int], finding_rows: list[_Row], transition_rows: list[_Row]) -> None:
    """SQLite: the store's text for times and dates (as its UTCDateTime type writes them)."""
    clock = _Clock()
    cursor = driver.cursor()
    try:
        marks = ", ".join("?" * 15)
        cursor.executemany(
            f"INSERT INTO findings ({FINDING_COLUMNS}) VALUES ({marks})",
            ((r[0], ids[r[1]], *r[2:13], clock.stamp(r[13]), clock.stamp(r[14])) for r in finding_rows),
        )
        marks = ", ".join("?" * 12)
        cursor.executemany(
            f"INSERT INTO transitions ({TRANSITION_COLUMNS}) VALUES ({marks})",
            (
                (r[0], ids[r[1]], r[2], clock.stamp(r[3]), *r[4:11], None if r[11] is None else clock.day(r[11]))
                for r in transition_rows
            ),
        )
    finally:
        cursor.close()


def _datetime(us: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=us)


def _summary(
    url: str, cells: list[_Cluster], made: list[_Finding], generate: float, load: float, elapsed: float
) -> FillSummary:
    states = Counter(STATES[f.final].value for f in made)
    changes: Counter[str] = Counter()
    per_cluster: dict[str, dict[str, int]] = {
        cell.name: {"findings": 0, "transitions": 0, **{s.value: 0 for s in STATES}} for cell in cells
    }
    for finding in made:
        counts = per_cluster[cells[finding.cluster].name]
        counts["findings"] += 1
        counts["transitions"] += finding.count
        counts[STATES[finding.final].value] += 1
        before: int | None = None
        for state in finding.states:
            changes[CHANGES[(before, state)]] += 1
            before = state
    return FillSummary(
        url=url,
        findings=len(made),
        transitions=sum(f.count for f in made),
        states={s.value: states[s.value] for s in STATES},
        changes=dict(changes.most_common()),
        clusters=per_cluster,
        generate_seconds=generate,
        load_seconds=load,
        elapsed=elapsed,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="the store: sqlite:///path, a file path, or postgresql://…")
    parser.add_argument("--findings", type=int, default=100_000)
    parser.add_argument("--transitions", type=int, default=1_000_000)
    parser.add_argument("--clusters", default=",".join(DEFAULT_CLUSTERS), help="comma-separated names")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    names = tuple(name.strip() for name in args.clusters.split(",") if name.strip())
    try:
        summary = fill(
            args.url,
            findings=args.findings,
            transitions=args.transitions,
            clusters=names,
            days=args.days,
            seed=args.seed,
        )
    except StoreNotEmptyError as error:
        print(f"gen_dashboard_store: {error}", file=sys.stderr)
        return 2
    except ValueError as error:
        parser.error(str(error))
    for line in summary.lines():
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
