"""ValueSharer: repeated strings and scalar mappings become one copy; nothing else changes."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from stockade.sources.sharing import ValueSharer


def deployment(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "shop", "labels": {"app": "api"}},
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "registry.example.com/shop/api:1.2.3",
                            "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}},
                            "securityContext": {"privileged": False, "runAsNonRoot": True},
                        }
                    ]
                }
            }
        },
    }


def container(raw: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = raw["spec"]["template"]["spec"]["containers"][0]
    return found


def test_equal_parts_of_two_objects_become_one_copy() -> None:
    sharer = ValueSharer()
    first, second = sharer.share(deployment("a")), sharer.share(deployment("b"))
    assert container(first)["image"] is container(second)["image"]
    assert container(first)["securityContext"] is container(second)["securityContext"]
    assert container(first)["resources"]["limits"] is container(second)["resources"]["limits"]
    assert first["metadata"]["labels"] is second["metadata"]["labels"]
    assert first["metadata"] is not second["metadata"]  # names differ: never merged
    assert first["metadata"]["name"] == "a" and second["metadata"]["name"] == "b"


def test_values_equal_in_python_but_not_in_a_manifest_stay_apart() -> None:
    sharer = ValueSharer()
    flags = [sharer.share({"spec": {"sc": {"privileged": value}}})["spec"]["sc"] for value in (True, 1, 1.0, "1")]
    assert [type(f["privileged"]) for f in flags] == [bool, int, float, str]
    assert len({id(f) for f in flags}) == 4


def test_the_tables_are_bounded() -> None:
    sharer = ValueSharer(max_entries=10)
    for i in range(100):
        sharer.share({"metadata": {"labels": {"n": str(i)}}})
    assert len(sharer._strings) + len(sharer._mappings) <= 12


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.sampled_from(["a", "b", "500m"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(["x", "y", "z"]), inner, max_size=4),
    max_leaves=20,
)


@given(st.lists(st.dictionaries(st.sampled_from(["spec", "metadata", "data"]), json_values), max_size=6))
def test_sharing_changes_no_object_content(objects: list[dict[str, Any]]) -> None:
    sharer = ValueSharer()
    before = copy.deepcopy(objects)
    shared = [sharer.share(o) for o in objects]
    assert shared == before
    assert all(type(a) is type(b) for a, b in zip(_leaves(shared), _leaves(before), strict=True))


def _leaves(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return [leaf for key in sorted(node) for leaf in _leaves(node[key])]
    if isinstance(node, list):
        return [leaf for item in node for leaf in _leaves(item)]
    return [node]


def test_values_unique_to_each_version_are_not_kept_for_sharing() -> None:
    sharer = ValueSharer()
    for version in range(50):
        sharer.share({"metadata": {"name": "a", "resourceVersion": str(version), "uid": f"u-{version}"}})
    assert set(sharer._strings) == {"a"}
    assert not sharer._mappings
