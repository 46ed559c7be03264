"""stockade.drift: field ownership, defaults, quantities and matching, one behaviour at a time."""

from __future__ import annotations

import json
from typing import Any

from stockade.drift import MISSING, DriftOptions, compare
from stockade.drift.fields import Item, flatten, owned_fields, same
from stockade.model.resource import Origin, Resource, resource_from_raw


def _resource(raw: dict[str, Any], where: str = "git.yaml") -> Resource:
    made = resource_from_raw(raw, Origin(where))
    assert isinstance(made, Resource)
    return made


def _config(name: str = "app", namespace: str | None = "shop", **extra: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, **extra}


def test_fieldsv1_paths_follow_merge_keys_and_fall_back_to_whole_lists() -> None:
    owned = owned_fields(
        {
            "f:spec": {
                "f:containers": {'k:{"name":"web"}': {".": {}, "f:image": {}}},
                "f:finalizers": {'v:"x"': {}},
                "f:rules": {'k:{"host":"a"}': {"f:http": {}}},  # a list this view indexes by position
                "f:args": {"i:0": {}},
            }
        }
    )
    assert ("spec", "containers", Item("name=web"), "image") in owned
    assert ("spec", "finalizers") in owned
    assert ("spec", "rules") in owned
    assert ("spec", "args", Item("0")) in owned
    assert ("spec", "containers", Item("name=web")) not in owned  # "." alone owns no field


def test_flatten_keys_merged_lists_and_drops_empty_values() -> None:
    leaves = flatten({"spec": {"containers": [{"name": "a", "image": "x"}], "resources": {}, "x": None, "l": []}})
    assert leaves == {
        ("spec", "containers", Item("name=a"), "name"): "a",
        ("spec", "containers", Item("name=a"), "image"): "x",
    }
    # Two items with one key cannot be told apart by it: by position then.
    twice = flatten({"env": [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]})
    assert ("env", Item("1"), "value") in twice


def test_quantities_compare_by_amount_only_where_they_are_amounts() -> None:
    limits = ("spec", "resources", "limits", "memory")
    assert same(limits, "1Gi", "1024Mi")
    assert same(("spec", "resources", "limits", "cpu"), 0.5, "500m")
    assert not same(limits, "1Gi", "2Gi")
    assert not same(("metadata", "labels", "version"), "0.5", "500m")
    assert not same(("spec", "replicas"), 1, True)


def test_without_managed_fields_or_last_applied_only_git_fields_count() -> None:
    git = _resource(_config(data={"a": "1"}))
    live = _resource(_config(data={"a": "2", "b": "added by hand or by default: nobody can tell"}), "cluster")
    report = compare([git], [live])
    (drift,) = report.objects
    assert drift.basis == "git fields only"
    assert [(c.name, c.git, c.cluster) for c in drift.changes] == [("data.a", "1", "2")]


def test_last_applied_names_the_fields_someone_set() -> None:
    applied = json.dumps(_config(data={"a": "1", "b": "2"}))
    live = _config(data={"a": "1", "b": "2", "c": "3"})
    live["metadata"]["annotations"] = {"kubectl.kubernetes.io/last-applied-configuration": applied}
    (drift,) = compare([_resource(_config(data={"a": "1"}))], [_resource(live, "cluster")]).objects
    assert drift.basis == "last-applied-configuration"
    assert [(c.name, c.git, c.cluster) for c in drift.changes] == [("data.b", MISSING, "2")]


def test_managed_fields_of_controllers_and_status_do_not_count() -> None:
    live = _config(data={"a": "1", "b": "controller's"})
    live["metadata"]["managedFields"] = [
        {"manager": "kubectl-client-side-apply", "operation": "Update", "fieldsV1": {"f:data": {"f:a": {}}}},
        {"manager": "kube-controller-manager", "operation": "Update", "fieldsV1": {"f:data": {"f:b": {}}}},
        {"manager": "kubectl", "subresource": "status", "fieldsV1": {"f:data": {"f:b": {}}}},
    ]
    (drift,) = compare([_resource(_config(data={"a": "1"}))], [_resource(live, "cluster")]).objects
    assert (drift.state, drift.basis) == ("in-sync", "managedFields")


def test_namespaces_of_git_objects_without_one_and_cluster_scoped_kinds() -> None:
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r"}}
    git = [_resource(_config(namespace=None, data={"a": "1"})), _resource(role)]
    live = [_resource(_config(namespace="team", data={"a": "1"}), "cluster"), _resource(role, "cluster")]
    report = compare(git, live, DriftOptions(namespace="team"))
    assert {(o.key, o.state) for o in report.objects} == {
        ("ConfigMap/team/app", "in-sync"),
        ("ClusterRole.rbac.authorization.k8s.io/r", "in-sync"),
    }
    default = compare(git, live)
    assert {(o.key, o.state) for o in default.objects} == {
        ("ConfigMap/default/app", "missing"),
        ("ClusterRole.rbac.authorization.k8s.io/r", "in-sync"),
    }


def test_derived_objects_are_never_extra() -> None:
    owned = _config(name="child")
    owned["metadata"]["ownerReferences"] = [{"kind": "Thing", "name": "parent", "uid": "1"}]
    token = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token"}
    token["metadata"] = {"name": "t", "namespace": "shop"}
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "l", "namespace": "shop"}}
    live = [_resource(x, "cluster") for x in (_config(), owned, token, lease, _config(name="stray"))]
    report = compare([_resource(_config())], live)
    assert [(o.key, o.state) for o in report.drifted] == [("ConfigMap/shop/stray", "extra")]


def test_a_namespace_written_on_a_cluster_scoped_kind_is_ignored() -> None:
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r"}}
    written = {**role, "metadata": {"name": "r", "namespace": "shop"}}
    report = compare([_resource(written)], [_resource(role, "cluster")])
    assert [(o.key, o.state) for o in report.objects] == [("ClusterRole.rbac.authorization.k8s.io/r", "in-sync")]
