"""A deterministic audit log: benign traffic of a busy cluster, with planted incidents among it.

Benign events imitate what a cluster's log is made of: controllers and kubelets watching and
updating, ServiceAccounts reading their own Secrets and ConfigMaps, people listing pods and reading
logs, deployments rolled out (pods without host access), Roles bound to `view`, a few denials
(never 20 within a minute from one identity). Two namespaces are deployed by GitOps operators
(:data:`GITOPS`): there the operators sync, cert-manager renews certificates and workloads write
their own objects. None of them should be detected. Planted incidents are one of each detection
(two for hand changes in GitOps namespaces: a person, and a CI job's kubectl), spread through the
log at known positions.

    python benchmarks/gen_audit_log.py --events 1000000 -o /tmp/audit.log
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from stockade.model.gitops import GitOpsScope

START = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
HUMANS = ("alice@example.com", "bob@example.com", "carol@example.com")
NAMESPACES = ("shop", "payments", "search", "web")
ARGO = "system:serviceaccount:argocd:argocd-application-controller"
FLUX = "system:serviceaccount:flux-system:kustomize-controller"
GITOPS = GitOpsScope(
    {"shop": "Argo CD Application argocd/shop", "payments": "Flux Kustomization flux-system/payments"},
    frozenset({ARGO, FLUX}),
)
OPERATOR_AGENTS = {ARGO: "argocd-application-controller/v2.13.1", FLUX: "kustomize-controller/v1.4.0"}


def _event(
    number: int,
    verb: str,
    user: str,
    groups: list[str],
    ref: dict[str, Any] | None,
    code: int = 200,
    uri: str = "",
    **extra: Any,
) -> dict[str, Any]:
    moment = START + dt.timedelta(milliseconds=number * 5)
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    event: dict[str, Any] = {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "Metadata",
        "auditID": f"00000000-0000-4000-8000-{number:012d}",
        "stage": "ResponseComplete",
        "requestURI": uri or "/api/v1/namespaces/shop/pods",
        "verb": verb,
        "user": {"username": user, "groups": groups},
        "sourceIPs": ["10.0.0.5"],
        "userAgent": "kubectl/v1.31.2",
        "responseStatus": {"metadata": {}, "code": code},
        "requestReceivedTimestamp": stamp,
        "stageTimestamp": stamp,
    }
    if ref is not None:
        event["objectRef"] = ref
    event.update(extra)
    return event


def benign(number: int, rng: random.Random) -> dict[str, Any]:
    ns = rng.choice(NAMESPACES)
    kind = number % 10
    if kind < 4:  # controllers and kubelets
        user = rng.choice(["system:kube-controller-manager", "system:node:worker-3", "system:kube-scheduler"])
        return _event(
            number,
            rng.choice(["watch", "list", "update", "patch"]),
            user,
            ["system:authenticated"],
            {"resource": rng.choice(["pods", "endpoints", "nodes", "leases"]), "namespace": ns},
        )
    if kind < 6:  # workloads reading their own configuration, Secrets included
        sa = f"system:serviceaccount:{ns}:app"
        return _event(
            number,
            "get",
            sa,
            ["system:serviceaccounts", "system:authenticated"],
            {"resource": rng.choice(["secrets", "configmaps"]), "namespace": ns, "name": "app-config"},
        )
    if kind < 8:  # people looking around
        return _event(
            number,
            rng.choice(["get", "list"]),
            rng.choice(HUMANS),
            ["developers", "system:authenticated"],
            {
                "resource": rng.choice(["pods", "deployments", "services", "pods"]),
                "namespace": ns,
                **({"subresource": "log"} if rng.random() < 0.3 else {}),
            },
        )
    if kind == 8:  # a rollout: a Deployment's pods, no host access
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "spec": {"containers": [{"name": "app", "image": "registry.example.com/app:1"}]},
        }
        return _event(
            number,
            "create",
            "system:serviceaccount:kube-system:replicaset-controller",
            ["system:serviceaccounts", "system:authenticated"],
            {"resource": "pods", "namespace": ns},
            code=201,
            level="Request",
            requestObject=pod,
        )
    if number % 1000 == 9:  # a team binding view (by the operator where git decides), a denial
        binding = {"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}}
        operator = ARGO if ns == "shop" else FLUX if ns == "payments" else ""
        return _event(
            number,
            "create",
            operator or rng.choice(HUMANS),
            ["system:serviceaccounts"] if operator else ["developers"],
            {"resource": "rolebindings", "namespace": ns, "apiGroup": "rbac.authorization.k8s.io"},
            code=201,
            level="Request",
            requestObject=binding,
            userAgent=OPERATOR_AGENTS.get(operator, "kubectl/v1.31.2"),
        )
    if number % 1000 in (19, 29, 39):  # GitOps namespaces: syncs, certificates, workloads' own writes
        gitops_ns = "shop" if number % 2 else "payments"
        user, agent, resource = {
            19: (ARGO if gitops_ns == "shop" else FLUX, "", "deployments"),
            29: ("system:serviceaccount:cert-manager:cert-manager", "cert-manager-certificates/v1.16.2", "secrets"),
            39: (f"system:serviceaccount:{gitops_ns}:app", "app/1.0", "configmaps"),
        }[number % 1000]
        return _event(
            number,
            rng.choice(["patch", "update", "create"]),
            user,
            ["system:serviceaccounts", "system:authenticated"],
            {"resource": resource, "namespace": gitops_ns, "name": "web"},
            userAgent=agent or OPERATOR_AGENTS[user],
        )
    return _event(
        number,
        "get",
        rng.choice(HUMANS),
        ["developers", "system:authenticated"],
        {"resource": "nodes", "name": "worker-1"},
        code=403 if number % 97 == 0 else 200,
    )


PLANTED_NUMBERS = 37  # event numbers (auditIDs, timestamps) one batch of planted incidents takes


def planted(number: int) -> list[tuple[str, dict[str, Any]]]:
    """One incident of each detection: (expected detection id, event)."""
    human = ["developers", "system:authenticated"]
    privileged = {
        "apiVersion": "v1",
        "kind": "Pod",
        "spec": {
            "hostPID": True,
            "containers": [{"name": "x", "image": "alpine", "securityContext": {"privileged": True}}],
        },
    }
    admin_role = {"rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}
    incidents = [
        (
            "AD-001",
            _event(
                number,
                "create",
                "mallory@example.com",
                human,
                {"resource": "pods", "namespace": "payments", "name": "api-1", "subresource": "exec"},
                code=101,
            ),
        ),
        (
            "AD-002",
            _event(
                number + 1,
                "list",
                "system:serviceaccount:web:frontend",
                ["system:serviceaccounts"],
                {"resource": "secrets"},
                uri="/api/v1/secrets",
            ),
        ),
        (
            "AD-003",
            _event(
                number + 2, "get", "kubernetes-admin", ["system:masters", "system:authenticated"], {"resource": "nodes"}
            ),
        ),
        (
            "AD-004",
            _event(
                number + 3,
                "list",
                "system:anonymous",
                ["system:unauthenticated"],
                {"resource": "pods"},
                uri="/api/v1/pods",
            ),
        ),
        (
            "AD-005",
            _event(
                number + 4,
                "create",
                "mallory@example.com",
                human,
                {"resource": "pods", "namespace": "web"},
                code=201,
                level="Request",
                requestObject=privileged,
            ),
        ),
        (
            "AD-006",
            _event(
                number + 5,
                "create",
                "mallory@example.com",
                human,
                {"resource": "clusterroles", "name": "everything", "apiGroup": "rbac.authorization.k8s.io"},
                code=201,
                level="Request",
                requestObject=admin_role,
            ),
        ),
        (
            "AD-007",
            _event(
                number + 6,
                "get",
                "mallory@example.com",
                human,
                {"resource": "pods", "namespace": "shop"},
                impersonatedUser={"username": "system:admin"},
            ),
        ),
        (
            "AD-008",
            _event(
                number + 7,
                "create",
                "mallory@example.com",
                human,
                {"resource": "serviceaccounts", "namespace": "kube-system", "name": "deployer", "subresource": "token"},
                code=201,
            ),
        ),
        (
            "AD-009",
            _event(
                number + 8,
                "patch",
                "mallory@example.com",
                human,
                {
                    "resource": "validatingwebhookconfigurations",
                    "name": "gatekeeper",
                    "apiGroup": "admissionregistration.k8s.io",
                },
            ),
        ),
        (
            "AD-010",
            _event(
                number + 9,
                "deletecollection",
                "mallory@example.com",
                human,
                {"resource": "events", "namespace": "payments"},
            ),
        ),
        (
            "AD-013",
            _event(
                number + 35,
                "patch",
                "mallory@example.com",
                human,
                {"resource": "deployments", "namespace": "shop", "name": "web", "apiGroup": "apps"},
            ),
        ),
        (
            "AD-013",
            _event(
                number + 36,
                "update",
                "system:serviceaccount:ci:deployer",
                ["system:serviceaccounts", "system:authenticated"],
                {"resource": "configmaps", "namespace": "payments", "name": "flags"},
            ),
        ),
    ]
    denials = [
        _event(
            number + 10 + i,
            "get",
            "scanner@example.com",
            human,
            {"resource": "secrets", "namespace": "payments"},
            code=403,
        )
        for i in range(25)
    ]
    incidents.append(("AD-011", denials[19]))  # the 20th denial within a minute trips it
    return [*incidents, *(("", d) for d in denials if d is not denials[19])]


def generate(events: int, seed: int = 11) -> Iterator[tuple[str, dict[str, Any]]]:
    """(expected detection id or "", event) in log order: benign traffic, incidents every 1/11th."""
    rng = random.Random(seed)
    spots = {events * k // 11 for k in range(1, 11)}
    number = 0
    for index in range(events):
        if index in spots:
            yield from planted(number)
            number += PLANTED_NUMBERS
        yield "", benign(number, rng)
        number += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args()
    with Path(args.output).open("wb") as out:
        for _, event in generate(args.events):
            out.write(orjson.dumps(event) + b"\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
