"""Safe defaults as JSONPatch: applied with the ``jsonpatch`` library (as the API server applies
them), the patched objects pass the rules each default targets unless the object explicitly asked
otherwise; a switch turned off leaves its fields alone; every patch applies cleanly.

The rules each default targets (``stockade rules list``):

- drop ALL capabilities: WL-005 capabilities-not-dropped, PSS-018 pss-capabilities-restricted;
- seccomp RuntimeDefault: WL-012 seccomp-unconfined, PSS-017 pss-seccomp-restricted;
- no privilege escalation: WL-002 privilege-escalation-allowed, PSS-014 pss-privilege-escalation;
- no token automount: SA-002 service-account-token-automount.

What counts as "explicitly asked otherwise" is written out below (:func:`explained`) from the
rules' and the API server's terms, apart from the code under test.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from dataclasses import fields
from typing import Any

import jsonpatch
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import stockade
from stockade.admission.mutate import MutationOptions, pointer, safe_defaults
from stockade.model.finding import Finding
from stockade.model.podspec import BUILTIN_TEMPLATE_PATHS, DEFAULT_EXTRA_TEMPLATE_PATHS, find_pod_template
from stockade.model.resource import Origin, Resource
from stockade.sources.files import FileSource
from tests.helpers import scan_objects
from tests.vendored import CORPUS, ROOT

SWITCHES = tuple(f.name for f in fields(MutationOptions))
TARGETED = {
    "no_privilege_escalation": {"WL-002": "privilege-escalation-allowed", "PSS-014": "pss-privilege-escalation"},
    "drop_all_capabilities": {"WL-005": "capabilities-not-dropped", "PSS-018": "pss-capabilities-restricted"},
    "seccomp_runtime_default": {"WL-012": "seccomp-unconfined", "PSS-017": "pss-seccomp-restricted"},
    "no_token_automount": {"SA-002": "service-account-token-automount"},
}
SWITCH_OF = {rule: switch for switch, rules in TARGETED.items() for rule in rules}
RULES = tuple(SWITCH_OF)
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
LEGACY_SECCOMP = "seccomp.security.alpha.kubernetes.io/pod"
ALL_ON = MutationOptions()


# --- what an object explicitly asks for (the oracle) ------------------------------------------


def template_of(raw: Mapping[str, Any], kind: str) -> tuple[tuple[str, ...], Mapping[str, Any], Any] | None:
    """(template path, pod spec, template metadata as written) of a pod-carrying object."""
    api_version = raw.get("apiVersion") if isinstance(raw.get("apiVersion"), str) else "v1"
    found = find_pod_template(Resource(raw, api_version, kind, "x", None, Origin("t")))
    if found is None:
        return None
    node: Any = raw
    for key in found.path:
        node = node[key]
    return found.path, found.spec, node.get("metadata")


def containers_of(spec: Mapping[str, Any], bare_pod: bool, name: str | None = None) -> Iterator[Any]:
    for list_name in CONTAINER_LISTS:
        if list_name == "ephemeralContainers" and not bare_pod:
            continue
        items = spec.get(list_name)
        for item in items if isinstance(items, list) else ():
            if name is None or (isinstance(item, dict) and item.get("name") == name):
                yield item


def linux(spec: Mapping[str, Any]) -> bool:
    os_ = spec.get("os")
    return os_ is None or (isinstance(os_, dict) and os_.get("name") in (None, "linux"))


def added_capabilities(context: Mapping[str, Any]) -> set[str] | None:
    caps = context.get("capabilities")
    if caps is None:
        return set()
    if not isinstance(caps, dict) or not isinstance(caps.get("add", []), list | None):
        return None
    return {c.upper().removeprefix("CAP_") if isinstance(c, str) else repr(c) for c in caps.get("add") or ()}


def annotations(*metadatas: Any) -> dict[str, Any] | None:
    merged: dict[str, Any] = {}
    for metadata in metadatas:
        if metadata is None:
            continue
        if not isinstance(metadata, dict) or not isinstance(metadata.get("annotations", {}), dict | None):
            return None
        merged.update(metadata.get("annotations") or {})
    return merged


def explained(rule: str, raw: Mapping[str, Any], kind: str, container: str | None) -> bool:
    """``rule`` may still fail on the patched ``raw`` (at ``container``, or anywhere when None)
    because the object asked for it, or because the field could not be set validly."""
    path, spec, metadata = template_of(raw, kind) or ((), {}, None)
    switch = SWITCH_OF[rule]
    if switch == "no_token_automount":
        account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
        said = annotations(raw.get("metadata"), metadata)
        uses_api = said is None or str(said.get("stockade.io/uses-api", "")).strip().lower() == "true"
        return spec.get("automountServiceAccountToken") is not None or account != "default" or uses_api
    if not linux(spec):
        return True  # Linux-only fields are rejected on other pods
    if switch == "seccomp_runtime_default":
        pod_context = spec.get("securityContext")
        if pod_context is not None and (not isinstance(pod_context, dict) or pod_context.get("seccompProfile")):
            return True
        legacy = (annotations(metadata) or {}).get(LEGACY_SECCOMP)
        if legacy is not None and legacy not in ("runtime/default", "docker/default"):
            return True
    for item in containers_of(spec, not path, container):
        context = item.get("securityContext") if isinstance(item, dict) else "malformed"
        if context is None:
            continue
        if not isinstance(context, dict):
            return True
        added = added_capabilities(context)
        if switch == "seccomp_runtime_default" and context.get("seccompProfile") is not None:
            return True
        if switch == "no_privilege_escalation" and (
            context.get("allowPrivilegeEscalation") is not None
            or context.get("privileged") not in (None, False)
            or added is None
            or "SYS_ADMIN" in added
        ):
            return True
        if switch == "drop_all_capabilities":
            caps = context.get("capabilities")
            if caps is not None and (not isinstance(caps, dict) or not isinstance(caps.get("drop", []), list | None)):
                return True
            if rule == "PSS-018" and (added is None or added - {"NET_BIND_SERVICE"}):
                return True  # restricted also forbids what it adds back
    return False


# --- the objects ----------------------------------------------------------------------------------


def json_copy(value: Any) -> Any:
    return orjson.loads(orjson.dumps(value))


def carriers() -> list[tuple[str, dict[str, Any]]]:
    """Every pod-carrying object of examples/demo and the vendored corpus, as (kind, raw JSON)."""
    result = FileSource([str(ROOT / "examples" / "demo"), str(CORPUS)]).collect()
    found = [(r.kind, json_copy(r.raw)) for r in result.resources if find_pod_template(r) is not None]
    kinds = {kind for kind, _ in found}
    assert len(found) >= 140, f"expected the demo and corpus workloads, found {len(found)}"
    assert {"Pod", "Deployment", "StatefulSet", "DaemonSet", "CronJob", "ReplicationController"} <= kinds
    return found


CARRIERS = carriers()


def numbered(objects: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """The objects renamed ``o<index>`` so each finding names the object it is on (names matter to
    none of the targeted rules; duplicates across the corpus would otherwise blur them)."""
    out = []
    for index, (_, raw) in enumerate(objects):
        raw = copy.deepcopy(raw)
        raw["metadata"] = {**raw["metadata"], "name": f"o{index}"}
        raw["metadata"].pop("generateName", None)
        out.append(raw)
    return out


def failing(objects: list[dict[str, Any]]) -> list[Finding]:
    result = scan_objects(objects, RULES)
    assert result.errors == []
    return result.failed


def index_of(finding: Finding) -> int:
    match = re.fullmatch(r"o(\d+)", finding.resource.name)
    assert match, finding.resource
    return int(match.group(1))


def patched(kind: str, raw: dict[str, Any], options: MutationOptions | Mapping[str, Any] = ALL_ON) -> dict[str, Any]:
    operations = safe_defaults(raw, kind, options)
    result: dict[str, Any] = jsonpatch.apply_patch(raw, operations)
    return result


# --- the rules ------------------------------------------------------------------------------------


def test_targeted_rule_ids_are_the_rules_of_those_names() -> None:
    selected = {rule.id: rule.name for rule in stockade.select(stockade.ScanOptions(rules=list(RULES)))}
    assert selected == {rule: name for rules in TARGETED.values() for rule, name in rules.items()}


def test_patched_demo_and_corpus_pass_the_targeted_rules_unless_explicit() -> None:
    originals = numbered(CARRIERS)
    fixed = numbered([(kind, patched(kind, raw)) for kind, raw in CARRIERS])
    before, after = failing(originals), failing(fixed)
    unexplained = [
        f"{f.rule_id} {CARRIERS[index_of(f)][1]['metadata'].get('name')} {f.container}: {f.message}"
        for f in after
        if not explained(f.rule_id, CARRIERS[index_of(f)][1], CARRIERS[index_of(f)][0], f.container)
    ]
    assert unexplained == []
    for rule in RULES:  # each default fixes most of what its rules found
        was, now = sum(f.rule_id == rule for f in before), sum(f.rule_id == rule for f in after)
        assert was >= 100 and now <= was // 4, (rule, was, now)


@pytest.mark.parametrize("switch", SWITCHES)
def test_a_switch_turned_off_leaves_its_rules_as_they_were(switch: str) -> None:
    options = MutationOptions(**{switch: False})
    originals = numbered(CARRIERS)
    fixed = numbered([(kind, patched(kind, raw, options)) for kind, raw in CARRIERS])
    own = set(TARGETED[switch])

    def keyed(findings: list[Finding]) -> list[tuple[str, str, str | None, str]]:
        return sorted((f.rule_id, f.resource.name, f.container, f.message) for f in findings if f.rule_id in own)

    assert keyed(failing(fixed)) == keyed(failing(originals)) != []
    for kind, raw in CARRIERS:
        assert touched(switch, raw, patched(kind, raw, options), kind) == []


# The fields each switch sets: (pod spec keys), (container keys).
FIELDS_OF = {
    "no_token_automount": ((("automountServiceAccountToken",), ("volumes",)), (("volumeMounts",),)),
    "seccomp_runtime_default": ((("securityContext", "seccompProfile"),), (("securityContext", "seccompProfile"),)),
    "drop_all_capabilities": ((), (("securityContext", "capabilities"),)),
    "no_privilege_escalation": ((), (("securityContext", "allowPrivilegeEscalation"),)),
}


def touched(switch: str, before: Mapping[str, Any], after: Mapping[str, Any], kind: str) -> list[str]:
    """The fields of ``switch`` that differ between ``before`` and ``after``."""
    old, new = template_of(before, kind), template_of(after, kind)
    if old is None or new is None:
        return [] if old is None and new is None else ["template"]
    old_spec, new_spec = old[1], new[1]
    pod_keys, container_keys = FIELDS_OF[switch]
    differ = [".".join(keys) for keys in pod_keys if dig(old_spec, *keys) != dig(new_spec, *keys)]
    for list_name in CONTAINER_LISTS:
        pairs = zip(as_list(old_spec.get(list_name)), as_list(new_spec.get(list_name)), strict=False)
        for index, (a, b) in enumerate(pairs):
            differ += [
                f"{list_name}[{index}]." + ".".join(keys) for keys in container_keys if dig(a, *keys) != dig(b, *keys)
            ]
    return differ


MISSING = object()


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def dig(node: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return MISSING
        node = node[key]
    return node


def test_patches_are_idempotent_on_the_corpus() -> None:
    for kind, raw in CARRIERS:
        once = patched(kind, raw)
        assert safe_defaults(once, kind, ALL_ON) == [], raw["metadata"]


# --- shapes, paths and pointers -------------------------------------------------------------------


POD_SPEC = {"containers": [{"name": "app", "image": "registry.example.com/app:1.0"}]}


def carrier(group: str, kind: str, path: tuple[str, ...], spec: Any, **metadata: Any) -> dict[str, Any]:
    template: Any = {"metadata": {"labels": {"app": "a"}, **metadata}, "spec": spec}
    if not path:
        template = {**template, "metadata": {"name": "a", **template["metadata"]}}
        return {"apiVersion": "v1", "kind": kind, **template}
    for key in reversed(path):
        template = {key: template}
    return {"apiVersion": f"{group}/v1" if group else "v1", "kind": kind, "metadata": {"name": "a"}, **template}


ALL_TEMPLATE_PATHS = sorted({**BUILTIN_TEMPLATE_PATHS, **DEFAULT_EXTRA_TEMPLATE_PATHS}.items())
assert len(ALL_TEMPLATE_PATHS) >= 20


@pytest.mark.parametrize(("key", "path"), ALL_TEMPLATE_PATHS, ids=[f"{k}.{g}" for (g, k), _ in ALL_TEMPLATE_PATHS])
def test_every_pod_carrying_kind_gets_the_defaults(key: tuple[str, str], path: tuple[str, ...]) -> None:
    group, kind = key
    obj = carrier(group, kind, path, copy.deepcopy(POD_SPEC))
    spec_pointer = pointer((*path, "spec"))
    assert safe_defaults(obj, kind, ALL_ON) == [
        {
            "op": "add",
            "path": f"{spec_pointer}/securityContext",
            "value": {"seccompProfile": {"type": "RuntimeDefault"}},
        },
        {
            "op": "add",
            "path": f"{spec_pointer}/containers/0/securityContext",
            "value": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        },
        {"op": "add", "path": f"{spec_pointer}/automountServiceAccountToken", "value": False},
    ]
    jsonpatch.apply_patch(obj, safe_defaults(obj, kind, ALL_ON))


@pytest.mark.parametrize("kind", ["Service", "ConfigMap", "Namespace", "Rollout"])
def test_kinds_without_a_pod_template_get_nothing(kind: str) -> None:
    obj = {"apiVersion": "v1", "kind": kind, "metadata": {"name": "a"}, "spec": {"template": {"spec": POD_SPEC}}}
    assert safe_defaults(obj, kind, ALL_ON) == []  # Rollout in the core group is no Argo Rollout


def test_an_object_without_api_version_is_read_by_its_kind() -> None:
    obj = carrier("apps", "Deployment", ("spec", "template"), copy.deepcopy(POD_SPEC))
    del obj["apiVersion"]
    assert len(safe_defaults(obj, "Deployment", ALL_ON)) == 3


def test_json_pointer_escapes_tilde_and_slash() -> None:
    assert pointer(("spec", "a/b", "c~d", 0, "~1")) == "/spec/a~1b/c~0d/0/~01"
    paths = {("example.com", "Odd"): ("spec", "pods/v1", "tmpl~x")}
    obj = carrier("example.com", "Odd", paths[("example.com", "Odd")], copy.deepcopy(POD_SPEC))
    operations = safe_defaults(obj, "Odd", ALL_ON, template_paths=paths)
    assert operations[0]["path"] == "/spec/pods~1v1/tmpl~0x/spec/securityContext"
    result = jsonpatch.apply_patch(obj, operations)
    container = result["spec"]["pods/v1"]["tmpl~x"]["spec"]["containers"][0]
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}


def test_existing_objects_are_descended_into_not_replaced() -> None:
    spec = {
        "securityContext": {"runAsNonRoot": True},
        "containers": [
            {"name": "a", "securityContext": {"readOnlyRootFilesystem": True}},
            {"name": "b", "securityContext": {"capabilities": {"add": ["NET_BIND_SERVICE"]}}},
            {"name": "c", "securityContext": {"capabilities": {"drop": ["NET_RAW"]}}},
            {"name": "d", "securityContext": {"capabilities": {"drop": ["ALL"]}, "allowPrivilegeEscalation": None}},
        ],
    }
    obj = carrier("apps", "Deployment", ("spec", "template"), spec)
    operations = safe_defaults(obj, "Deployment", {"no-token-automount": False})
    base = "/spec/template/spec"
    assert operations == [
        {"op": "add", "path": f"{base}/securityContext/seccompProfile", "value": {"type": "RuntimeDefault"}},
        {"op": "add", "path": f"{base}/containers/0/securityContext/allowPrivilegeEscalation", "value": False},
        {"op": "add", "path": f"{base}/containers/0/securityContext/capabilities", "value": {"drop": ["ALL"]}},
        {"op": "add", "path": f"{base}/containers/1/securityContext/allowPrivilegeEscalation", "value": False},
        {"op": "add", "path": f"{base}/containers/1/securityContext/capabilities/drop", "value": ["ALL"]},
        {"op": "add", "path": f"{base}/containers/2/securityContext/allowPrivilegeEscalation", "value": False},
        {"op": "add", "path": f"{base}/containers/2/securityContext/capabilities/drop/-", "value": "ALL"},
        {"op": "add", "path": f"{base}/containers/3/securityContext/allowPrivilegeEscalation", "value": False},
    ]
    result = jsonpatch.apply_patch(obj, operations)["spec"]["template"]["spec"]
    assert result["securityContext"] == {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
    assert result["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True
    assert result["containers"][1]["securityContext"]["capabilities"] == {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]}
    assert result["containers"][2]["securityContext"]["capabilities"] == {"drop": ["NET_RAW", "ALL"]}


def test_explicit_settings_are_kept() -> None:
    spec = {
        "securityContext": {"seccompProfile": {"type": "Unconfined"}},
        "automountServiceAccountToken": True,
        "containers": [
            {"name": "a", "securityContext": {"allowPrivilegeEscalation": True, "capabilities": {"drop": ["ALL"]}}},
            {"name": "b", "securityContext": {"privileged": True, "capabilities": {"drop": ["ALL"]}}},
            {"name": "c", "securityContext": {"capabilities": {"add": ["CAP_SYS_ADMIN"], "drop": ["ALL"]}}},
            {"name": "d", "securityContext": {"capabilities": {"add": ["SYS_ADMIN"], "drop": ["ALL"]}}},
        ],
    }
    assert safe_defaults(carrier("", "Pod", (), spec), "Pod", ALL_ON) == []


@pytest.mark.parametrize(
    ("annotation", "expected"), [("runtime/default", 1), ("docker/default", 1), ("unconfined", 0), ("localhost/p", 0)]
)
def test_a_legacy_seccomp_annotation_is_respected(annotation: str, expected: int) -> None:
    spec = {
        "containers": [
            {"name": "a", "securityContext": {"capabilities": {"drop": ["ALL"]}, "allowPrivilegeEscalation": False}}
        ]
    }
    obj = carrier("", "Pod", (), spec, annotations={LEGACY_SECCOMP: annotation})
    operations = safe_defaults(obj, "Pod", {"no-token-automount": False})
    assert len(operations) == expected  # the API server rejects a field that disagrees with it


@pytest.mark.parametrize("os_value", [{"name": "windows"}, {"name": "plan9"}, "linux", ["linux"]])
def test_only_linux_pods_get_the_linux_only_fields(os_value: Any) -> None:
    obj = carrier("", "Pod", (), {**copy.deepcopy(POD_SPEC), "os": os_value})
    assert safe_defaults(obj, "Pod", ALL_ON) == [
        {"op": "add", "path": "/spec/automountServiceAccountToken", "value": False}
    ]
    linux_pod = carrier("", "Pod", (), {**copy.deepcopy(POD_SPEC), "os": {"name": "linux"}})
    assert len(safe_defaults(linux_pod, "Pod", ALL_ON)) == 3


def test_ephemeral_containers_of_a_pod_get_the_defaults() -> None:
    spec = {**copy.deepcopy(POD_SPEC), "ephemeralContainers": [{"name": "debug", "image": "busybox"}]}
    paths = [op["path"] for op in safe_defaults(carrier("", "Pod", (), spec), "Pod", ALL_ON)]
    assert "/spec/ephemeralContainers/0/securityContext" in paths


def test_init_containers_get_the_defaults() -> None:
    spec = {**copy.deepcopy(POD_SPEC), "initContainers": [{"name": "migrate", "image": "busybox"}]}
    obj = carrier("batch", "Job", ("spec", "template"), spec)
    paths = [op["path"] for op in safe_defaults(obj, "Job", ALL_ON)]
    assert "/spec/template/spec/initContainers/0/securityContext" in paths


# --- the ServiceAccount token ---------------------------------------------------------------------


TOKEN_VOLUME = {
    "name": "kube-api-access-7xk2p",
    "projected": {
        "defaultMode": 420,
        "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {
                "downwardAPI": {
                    "items": [
                        {"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}
                    ]
                }
            },
        ],
    },
}
TOKEN_MOUNT = {
    "name": "kube-api-access-7xk2p",
    "readOnly": True,
    "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
}


def pod_as_admitted() -> dict[str, Any]:
    """A Pod as a mutating webhook receives it: the ServiceAccount plugin has set the account and
    added its token volume and mounts."""
    data_mount = {"name": "data", "mountPath": "/data"}
    return carrier(
        "",
        "Pod",
        (),
        {
            "serviceAccountName": "default",
            "serviceAccount": "default",
            "volumes": [{"name": "data", "emptyDir": {}}, copy.deepcopy(TOKEN_VOLUME)],
            "initContainers": [{"name": "init", "image": "busybox", "volumeMounts": [copy.deepcopy(TOKEN_MOUNT)]}],
            "containers": [
                {
                    "name": "app",
                    "image": "registry.example.com/app:1.0",
                    "volumeMounts": [data_mount, copy.deepcopy(TOKEN_MOUNT)],
                },
                {
                    "name": "side",
                    "image": "registry.example.com/side:1.0",
                    "volumeMounts": [copy.deepcopy(TOKEN_MOUNT), data_mount],
                },
            ],
        },
    )


def test_a_bare_pod_loses_the_token_volume_the_service_account_plugin_added() -> None:
    pod = pod_as_admitted()
    operations = safe_defaults(
        pod, "Pod", {"drop-all-capabilities": False, "seccomp-runtime-default": False, "no-privilege-escalation": False}
    )
    assert operations == [
        {"op": "remove", "path": "/spec/initContainers/0/volumeMounts/0"},
        {"op": "remove", "path": "/spec/containers/0/volumeMounts/1"},
        {"op": "remove", "path": "/spec/containers/1/volumeMounts/0"},
        {"op": "remove", "path": "/spec/volumes/1"},
        {"op": "add", "path": "/spec/automountServiceAccountToken", "value": False},
    ]
    spec = jsonpatch.apply_patch(pod, operations)["spec"]
    assert spec["volumes"] == [{"name": "data", "emptyDir": {}}]
    assert [c["volumeMounts"] for c in spec["containers"]] == [[{"name": "data", "mountPath": "/data"}]] * 2
    assert spec["initContainers"][0]["volumeMounts"] == []
    assert spec["automountServiceAccountToken"] is False


def test_a_user_volume_with_a_projected_token_is_kept() -> None:
    pod = pod_as_admitted()
    pod["spec"]["volumes"][1]["name"] = "my-token"  # not the plugin's name: the user's own volume
    for container in pod["spec"]["containers"] + pod["spec"]["initContainers"]:
        for mount in container["volumeMounts"]:
            if mount["name"].startswith("kube-api-access-"):
                mount["name"] = "my-token"
    operations = safe_defaults(pod, "Pod", ALL_ON)
    assert [op for op in operations if op["op"] == "remove"] == []
    assert {"op": "add", "path": "/spec/automountServiceAccountToken", "value": False} in operations


def test_a_malformed_mount_list_keeps_the_token_as_it_is() -> None:
    pod = pod_as_admitted()
    pod["spec"]["containers"][1]["volumeMounts"] = {"name": "oops"}
    operations = safe_defaults(pod, "Pod", ALL_ON)
    assert not any(op["path"].startswith(("/spec/volumes", "/spec/automount")) for op in operations)


@pytest.mark.parametrize(
    ("spec_fields", "metadata", "expected"),
    [
        ({}, {}, True),
        ({"serviceAccountName": ""}, {}, True),
        ({"serviceAccountName": "default"}, {}, True),
        ({"serviceAccount": "default"}, {}, True),
        ({"serviceAccountName": "api"}, {}, False),
        ({"serviceAccount": "api"}, {}, False),
        ({"serviceAccountName": 7}, {}, False),
        ({"automountServiceAccountToken": False}, {}, False),
        ({"automountServiceAccountToken": True}, {}, False),
        ({}, {"annotations": {"stockade.io/uses-api": "true"}}, False),
        ({}, {"annotations": {"stockade.io/uses-api": " True "}}, False),
        ({}, {"annotations": {"stockade.io/uses-api": "false"}}, True),
        ({}, {"annotations": ["stockade.io/uses-api"]}, False),
    ],
)
def test_token_automount_only_where_the_pod_does_not_call_the_api(
    spec_fields: dict[str, Any], metadata: dict[str, Any], expected: bool
) -> None:
    only_token = {"drop-all-capabilities": False, "seccomp-runtime-default": False, "no-privilege-escalation": False}
    template = carrier(
        "apps", "Deployment", ("spec", "template"), {**copy.deepcopy(POD_SPEC), **spec_fields}, **metadata
    )
    assert bool(safe_defaults(template, "Deployment", only_token)) is expected
    # The annotation on the Deployment itself counts as well.
    if "annotations" in metadata:
        moved = carrier("apps", "Deployment", ("spec", "template"), {**copy.deepcopy(POD_SPEC), **spec_fields})
        moved["metadata"]["annotations"] = metadata["annotations"]
        assert bool(safe_defaults(moved, "Deployment", only_token)) is expected


# --- malformed input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "obj", "kind", "expected_paths"),
    [
        ("not a mapping", ["Pod"], "Pod", []),
        ("kind not a string", {"apiVersion": "v1", "spec": POD_SPEC}, None, []),
        ("spec a list", {"apiVersion": "v1", "kind": "Pod", "spec": []}, "Pod", []),
        (
            "template a string",
            {"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"template": "x"}},
            "Deployment",
            [],
        ),
        (
            "containers an object",
            {"apiVersion": "v1", "kind": "Pod", "spec": {"containers": {"name": "a"}}},
            "Pod",
            ["/spec/securityContext", "/spec/automountServiceAccountToken"],
        ),
        (
            "container a string",
            {"apiVersion": "v1", "kind": "Pod", "spec": {"containers": ["nginx", {"name": "b"}]}},
            "Pod",
            ["/spec/securityContext", "/spec/containers/1/securityContext", "/spec/automountServiceAccountToken"],
        ),
        (
            "securityContext a list",
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "spec": {"securityContext": [], "containers": [{"name": "a", "securityContext": []}]},
            },
            "Pod",
            ["/spec/automountServiceAccountToken"],
        ),
        (
            "capabilities a string",
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "spec": {
                    "securityContext": {"seccompProfile": {"type": "Localhost"}},
                    "automountServiceAccountToken": False,
                    "containers": [{"name": "a", "securityContext": {"capabilities": "ALL"}}],
                },
            },
            "Pod",
            [],
        ),
        (
            "drop a string",
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "spec": {
                    "securityContext": {"seccompProfile": {"type": "Localhost"}},
                    "automountServiceAccountToken": False,
                    "containers": [{"name": "a", "securityContext": {"capabilities": {"drop": "ALL"}}}],
                },
            },
            "Pod",
            ["/spec/containers/0/securityContext/allowPrivilegeEscalation"],
        ),
        (
            "add a string",
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "spec": {
                    "securityContext": {"seccompProfile": {"type": "Localhost"}},
                    "automountServiceAccountToken": False,
                    "containers": [
                        {"name": "a", "securityContext": {"capabilities": {"add": "SYS_ADMIN", "drop": ["ALL"]}}}
                    ],
                },
            },
            "Pod",
            [],
        ),
        (
            "privileged a string",
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "spec": {
                    "securityContext": {"seccompProfile": {"type": "Localhost"}},
                    "automountServiceAccountToken": False,
                    "containers": [
                        {"name": "a", "securityContext": {"privileged": "true", "capabilities": {"drop": ["ALL"]}}}
                    ],
                },
            },
            "Pod",
            [],
        ),
        (
            "unhashable annotation",
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"annotations": {LEGACY_SECCOMP: ["x"]}},
                "spec": {"automountServiceAccountToken": False, "containers": []},
            },
            "Pod",
            [],
        ),
    ],
)
def test_malformed_parts_get_no_operation_and_nothing_raises(
    label: str, obj: Any, kind: Any, expected_paths: list[str]
) -> None:
    operations = safe_defaults(obj, kind, ALL_ON)
    assert [op["path"] for op in operations] == expected_paths, label
    if isinstance(obj, dict):
        jsonpatch.apply_patch(obj, operations)


# --- options --------------------------------------------------------------------------------------


def test_options_default_to_all_on_and_read_kebab_case_keys() -> None:
    assert MutationOptions.from_mapping({}) == MutationOptions() == ALL_ON
    assert all(getattr(ALL_ON, name) for name in SWITCHES)
    assert MutationOptions.keys() == (
        "drop-all-capabilities",
        "seccomp-runtime-default",
        "no-privilege-escalation",
        "no-token-automount",
    )
    raw = {
        "drop-all-capabilities": False,
        "seccomp-runtime-default": True,
        "no-privilege-escalation": False,
        "no-token-automount": False,
    }
    options = MutationOptions.from_mapping(raw)
    assert options == MutationOptions(
        drop_all_capabilities=False, no_privilege_escalation=False, no_token_automount=False
    )
    assert options.as_mapping() == raw


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"drop_all_capabilities": False},
            "unknown key 'drop_all_capabilities' (did you mean 'drop-all-capabilities'?)",
        ),
        ({"seccomp": True}, "unknown key 'seccomp'"),
        ({1: True}, "unknown key 1"),
        ({"no-token-automount": "yes"}, "no-token-automount: expected true or false, got 'yes'"),
        ({"no-privilege-escalation": 1}, "no-privilege-escalation: expected true or false, got 1"),
        ({"drop-all-capabilities": None}, "drop-all-capabilities: expected true or false, got None"),
        (["drop-all-capabilities"], "expected a mapping of switches, got list"),
    ],
)
def test_bad_options_raise_naming_the_key(raw: Any, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        MutationOptions.from_mapping(raw)
    with pytest.raises(ValueError, match=re.escape(message)):
        safe_defaults(carrier("", "Pod", (), copy.deepcopy(POD_SPEC)), "Pod", raw)


# --- properties over generated objects ------------------------------------------------------------


# Fresh copies: an object decoded from JSON never shares a dict between two places.
JUNK = st.sampled_from([[], "x", 1, True, {"a": 1}]).map(copy.deepcopy)


def maybe(strategy: st.SearchStrategy[Any], weird: bool) -> st.SearchStrategy[Any]:
    return strategy | JUNK if weird else strategy


def object_strategy(weird: bool) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    """Pod-carrying objects of every built-in kind, drawn from the values the defaults distinguish;
    ``weird`` adds wrong-typed values at every level."""
    flag = st.none() | st.booleans()
    cap = st.sampled_from(["ALL", "all", "NET_RAW", "NET_BIND_SERVICE", "SYS_ADMIN", "CAP_SYS_ADMIN", "SYS_TIME"])
    caps = st.fixed_dictionaries(
        {}, optional={"add": maybe(st.lists(cap, max_size=3), weird), "drop": maybe(st.lists(cap, max_size=3), weird)}
    )
    profile = st.fixed_dictionaries({"type": st.sampled_from(["RuntimeDefault", "Unconfined", "Localhost"])})
    context = st.fixed_dictionaries(
        {},
        optional={
            "allowPrivilegeEscalation": maybe(flag, weird),
            "privileged": maybe(flag, weird),
            "capabilities": maybe(caps | st.none(), weird),
            "seccompProfile": maybe(profile | st.none(), weird),
            "readOnlyRootFilesystem": st.booleans(),
        },
    )
    token_mount = st.just(TOKEN_MOUNT).map(copy.deepcopy)
    mounts = st.lists(
        token_mount | st.just({"name": "data", "mountPath": "/data"}).map(copy.deepcopy),
        max_size=2,
        unique_by=lambda m: m["name"],
    )

    def containers(prefix: str) -> st.SearchStrategy[Any]:
        one = st.fixed_dictionaries(
            {"image": st.just("registry.example.com/app:1.0")},
            optional={"securityContext": maybe(context | st.none(), weird), "volumeMounts": maybe(mounts, weird)},
        )
        entries = st.lists(maybe(one, weird), min_size=1 if prefix == "c" else 0, max_size=3).map(
            lambda items: [
                {"name": f"{prefix}{i}", **item} if isinstance(item, dict) else item for i, item in enumerate(items)
            ]
        )
        return maybe(entries, weird)

    volumes = st.lists(
        st.sampled_from([TOKEN_VOLUME, {"name": "data", "emptyDir": {}}]), max_size=2, unique_by=lambda v: v["name"]
    )
    spec = st.fixed_dictionaries(
        {"containers": containers("c")},
        optional={
            "initContainers": containers("i"),
            "ephemeralContainers": containers("e"),
            "securityContext": maybe(
                st.fixed_dictionaries(
                    {}, optional={"seccompProfile": profile | st.none(), "runAsNonRoot": st.booleans()}
                )
                | st.none(),
                weird,
            ),
            "os": maybe(st.fixed_dictionaries({"name": st.sampled_from(["linux", "windows"])}), weird),
            "automountServiceAccountToken": maybe(flag, weird),
            "serviceAccountName": st.sampled_from(["default", "", "builder"]),
            "volumes": maybe(volumes.map(copy.deepcopy), weird),
        },
    )
    annotation_maps = st.dictionaries(
        st.sampled_from(["stockade.io/uses-api", LEGACY_SECCOMP, "team"]),
        st.sampled_from(["true", "false", "runtime/default", "unconfined", "shop"]),
        max_size=2,
    )
    metadata = st.fixed_dictionaries({}, optional={"annotations": maybe(annotation_maps, weird)})
    kinds = st.sampled_from(sorted(BUILTIN_TEMPLATE_PATHS.items()))

    def build(
        entry: tuple[tuple[str, str], tuple[str, ...]], spec: dict[str, Any], metadata: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        (group, kind), path = entry
        if path and not weird:
            spec.pop("ephemeralContainers", None)  # the API server allows none in a template
        return kind, carrier(group, kind, path, spec, **metadata)

    return st.builds(build, kinds, spec, metadata)


ALLOWED_TARGET = re.compile(
    r"/(securityContext(/seccompProfile)?|automountServiceAccountToken|volumes/\d+"
    r"|(initContainers|containers|ephemeralContainers)/\d+/(volumeMounts/\d+"
    r"|securityContext(/allowPrivilegeEscalation|/capabilities(/drop(/-)?)?)?))"
)


def explicit_values(spec: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """What no default may change: every value already set that a default would set."""
    values: list[tuple[str, Any]] = [
        ("automount", spec.get("automountServiceAccountToken")),
        ("pod seccomp", dig(spec, "securityContext", "seccompProfile")),
    ]
    for list_name in CONTAINER_LISTS:
        items = spec.get(list_name)
        for i, item in enumerate(items if isinstance(items, list) else []):
            for key in ("allowPrivilegeEscalation", "privileged", "seccompProfile"):
                values.append((f"{list_name}[{i}].{key}", dig(item, "securityContext", key)))
            values.append((f"{list_name}[{i}].add", dig(item, "securityContext", "capabilities", "add")))
    return [(name, value) for name, value in values if value is not MISSING and value is not None]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=object_strategy(weird=True), options=st.builds(MutationOptions, *[st.booleans()] * 4))
def test_any_patch_applies_cleanly_once_and_keeps_what_is_explicit(
    drawn: tuple[str, dict[str, Any]], options: MutationOptions
) -> None:
    kind, obj = drawn
    before = copy.deepcopy(obj)
    operations = safe_defaults(obj, kind, options)
    assert obj == before  # the input is not changed
    result = jsonpatch.apply_patch(obj, operations)  # raises on any operation that does not apply
    assert safe_defaults(result, kind, options) == []  # nothing left to do: one pass is enough
    found = template_of(obj, kind)
    assert found is not None
    spec_pointer = pointer((*found[0], "spec"))
    for op in operations:
        assert op["path"].startswith(spec_pointer) and ALLOWED_TARGET.fullmatch(op["path"][len(spec_pointer) :]), op
    new = template_of(result, kind)
    assert new is not None
    kept = dict(explicit_values(found[1]))
    assert {name: value for name, value in explicit_values(new[1]) if name in kept} == kept
    for switch in SWITCHES:
        if not getattr(options, switch):
            assert touched(switch, obj, result, kind) == [], switch


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=object_strategy(weird=False))
def test_patched_objects_pass_the_targeted_rules_unless_explicit(drawn: tuple[str, dict[str, Any]]) -> None:
    kind, obj = drawn
    result = scan_objects([patched(kind, obj)], RULES)
    assert result.errors == []
    unexplained = [
        (f.rule_id, f.container, f.message) for f in result.failed if not explained(f.rule_id, obj, kind, f.container)
    ]
    assert unexplained == []
