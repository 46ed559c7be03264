"""The benchmark's generated cluster is well formed, deterministic and exercises aggregation."""

from __future__ import annotations

from benchmarks.gen_rbac_cluster import generate

from stockade.rbac import ObjectRef, Request, Subject
from tests.rbac.builders import index


def test_generated_cluster_is_clean_and_deterministic() -> None:
    raws = generate(namespaces=20, cluster_roles=120, cluster_role_bindings=60)
    assert raws == generate(namespaces=20, cluster_roles=120, cluster_role_bindings=60)
    rbac = index(raws)
    assert rbac.problems == ()
    admin = rbac.rules_of(ObjectRef("ClusterRole", None, "admin"))
    view = rbac.rules_of(ObjectRef("ClusterRole", None, "view"))
    assert admin is not None and view is not None
    # view ⊂ edit ⊂ admin, and operator roles folded in at each level.
    assert set(view) < set(admin)
    assert any(r.api_groups[0].endswith(".example.com") for r in view)
    assert not any("secrets" in r.resources for r in view)


def test_generated_cluster_answers_typical_questions() -> None:
    rbac = index(generate(namespaces=20, cluster_roles=120, cluster_role_bindings=60))
    exec_web = Request("create", "pods", subresource="exec", name="web-0", namespace="ns-00003")
    who = rbac.who_can(exec_web)
    assert Subject.group("platform-admins") in who.subjects
    app = Subject.service_account("ns-00003", "app")
    assert not rbac.can_subject(app, exec_web)
    assert rbac.can_subject(
        Subject.service_account("ci", "deployer"),
        Request("update", "deployments", api_group="apps", name="x", namespace="ns-00003"),
    )
