"""Safe defaults for the mutating webhook: RFC 6902 JSONPatch operations, pure (no I/O).

:func:`safe_defaults` fills in four settings on the pod template of any pod-carrying kind (the
templates :func:`~stockade.model.podspec.find_pod_template` knows: Pod, Deployment, StatefulSet,
DaemonSet, ReplicaSet, ReplicationController, Job, CronJob, PodTemplate and the CRDs with a
template path), each switchable in :class:`MutationOptions`:

``drop-all-capabilities``
    every container gets ``securityContext.capabilities.drop: [ALL]`` (``ALL`` is appended to a
    ``drop`` list that lacks it; ``add`` is never touched, so what a container adds back it keeps).
``seccomp-runtime-default``
    the pod gets ``securityContext.seccompProfile: {type: RuntimeDefault}``; containers with a
    profile of their own keep it.
``no-privilege-escalation``
    every container gets ``securityContext.allowPrivilegeEscalation: false``, except one that is
    ``privileged`` or adds ``SYS_ADMIN``: the API server rejects ``false`` next to either.
``no-token-automount``
    the pod gets ``automountServiceAccountToken: false`` when it does not call the API, which
    Stockade reads as: it runs as its namespace's ``default`` ServiceAccount (an application that
    calls the API is given an account of its own, with a Role) and neither the pod template nor
    the object carrying it has the annotation ``stockade.io/uses-api: "true"`` (the opt-out for
    the rare pod that reads the API as ``default``). On a bare Pod the API server's
    ServiceAccount admission plugin has already run and added its ``kube-api-access-*`` token
    volume and mounts; they are removed with it, as that plugin would not have added them.

What the object says explicitly is never changed: a set ``allowPrivilegeEscalation`` (even
``true``), ``automountServiceAccountToken`` or ``seccompProfile`` (even ``Unconfined``) stays, and
the validating rules judge it. A legacy pod seccomp annotation other than ``runtime/default`` (or
``docker/default``) counts as an explicit profile: the API server rejects a field that disagrees
with it. Pods whose ``spec.os`` is set to anything but ``linux`` get none of the Linux-only
settings (the API server rejects them on Windows pods). A value of the wrong type on the way to
a setting (a ``securityContext`` written as a list, a container that is a string) earns no
operation for that part; no input raises.

Operations ``add`` parents that are missing as whole objects (never a deep path into nothing),
use JSON Pointers with ``~0``/``~1`` escapes, and apply in order to the object given. For a Pod
call this on CREATE only: a pod's spec cannot change afterwards, and a patch on UPDATE would
make the API server reject the update. Other kinds may be patched on UPDATE too.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Final

from stockade.model.podspec import (
    BUILTIN_TEMPLATE_PATHS,
    CONTAINER_LISTS,
    DEFAULT_EXTRA_TEMPLATE_PATHS,
    PodTemplate,
    find_pod_template,
    is_list,
    is_map,
)
from stockade.model.resource import Origin, Resource
from stockade.model.text import did_you_mean
from stockade.pss.baseline import SECCOMP_POD_ANNOTATION

TemplatePaths = Mapping[tuple[str, str], tuple[str, ...]]
Operation = dict[str, Any]

USES_API_ANNOTATION: Final = "stockade.io/uses-api"
DEFAULT_SERVICE_ACCOUNT: Final = "default"
# The ServiceAccount admission plugin names its projected token volume kube-api-access-<random>.
API_ACCESS_VOLUME_PREFIX: Final = "kube-api-access-"
# Legacy annotation values the API server accepts next to seccompProfile.type RuntimeDefault.
_RUNTIME_DEFAULT_ANNOTATIONS: Final = frozenset({"runtime/default", "docker/default"})
_ORIGIN: Final = Origin("admission")


@dataclass(frozen=True, slots=True)
class MutationOptions:
    """Which safe defaults the mutating webhook applies; every one is on unless switched off.

    In configuration the keys are kebab-case (``drop-all-capabilities: false``); see
    :meth:`from_mapping`.
    """

    drop_all_capabilities: bool = True
    seccomp_runtime_default: bool = True
    no_privilege_escalation: bool = True
    no_token_automount: bool = True

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        """The configuration keys, kebab-case, in declaration order."""
        return tuple(f.name.replace("_", "-") for f in fields(cls))

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> MutationOptions:
        """Options from a configuration section such as ``{"no-token-automount": false}``.

        Keys left out keep their default (on). Raises ValueError naming the key for an unknown key
        or a value that is not a boolean (``"yes"`` and ``1`` are refused, not guessed).
        """
        if not is_map(raw):
            raise ValueError(f"expected a mapping of switches, got {type(raw).__name__}")
        known = cls.keys()
        values: dict[str, bool] = {}
        for key, value in raw.items():
            if not isinstance(key, str) or key not in known:
                raise ValueError(f"unknown key {key!r}{did_you_mean(str(key), known)}")
            if not isinstance(value, bool):
                raise ValueError(f"{key}: expected true or false, got {value!r}")
            values[key.replace("-", "_")] = value
        return cls(**values)

    def as_mapping(self) -> dict[str, bool]:
        """The options as configuration keys (kebab-case) and values."""
        return {f.name.replace("_", "-"): getattr(self, f.name) for f in fields(self)}


def safe_defaults(
    obj: Mapping[str, Any],
    kind: str,
    options: Mapping[str, Any] | MutationOptions,
    *,
    template_paths: TemplatePaths = DEFAULT_EXTRA_TEMPLATE_PATHS,
) -> list[dict[str, Any]]:
    """JSONPatch operations that apply the switched-on safe defaults to ``obj`` (empty: nothing to do).

    ``kind`` is the object's kind (an AdmissionReview's ``request.kind.kind``); its API group is
    read from ``obj["apiVersion"]``. ``template_paths`` adds CRD pod-template paths to the
    built-in ones. Options given as a mapping are read by :meth:`MutationOptions.from_mapping`
    (which raises ValueError for a bad one); a malformed ``obj`` never raises.
    """
    chosen = options if isinstance(options, MutationOptions) else MutationOptions.from_mapping(options)
    if not is_map(obj) or not isinstance(kind, str):
        return []
    template = _template(obj, kind, template_paths)
    if template is None:
        return []
    operations: list[Operation] = []
    if _linux(template.spec):
        if chosen.seccomp_runtime_default:
            operations.extend(_seccomp(template))
        if chosen.drop_all_capabilities or chosen.no_privilege_escalation:
            for path, container in _containers(template):
                operations.extend(_container_context(path, container, chosen))
    if chosen.no_token_automount:
        operations.extend(_token_automount(obj, template))
    return operations


def _template(obj: Mapping[str, Any], kind: str, template_paths: TemplatePaths) -> PodTemplate | None:
    api_version = obj.get("apiVersion")
    if not isinstance(api_version, str):
        api_version = _api_version_for(kind, template_paths)
        if api_version is None:
            return None
    resource = Resource(obj, api_version, kind, "", None, _ORIGIN)
    return find_pod_template(resource, template_paths)


def _api_version_for(kind: str, template_paths: TemplatePaths) -> str | None:
    """A stand-in apiVersion for an object without one, when every group serving ``kind`` carries
    its template at the same path (Deployment in apps and extensions, say); else None."""
    found = {
        (group, path)
        for table in (BUILTIN_TEMPLATE_PATHS, template_paths)
        for (group, known), path in table.items()
        if known == kind
    }
    if not found or len({path for _, path in found}) > 1:
        return None
    group = min(group for group, _ in found)
    return f"{group}/v1" if group else "v1"


def _linux(spec: Mapping[str, Any]) -> bool:
    """The pod may run on Linux: ``spec.os`` unset or ``{name: linux}`` (the Linux-only settings
    are rejected on any other, and a malformed ``os`` is no promise of Linux)."""
    os_ = spec.get("os")
    return os_ is None or (is_map(os_) and os_.get("name") in (None, "linux"))


def _containers(template: PodTemplate) -> Iterator[tuple[tuple[str | int, ...], Mapping[str, Any]]]:
    """Each container that is an object, with its path from the object's root. Ephemeral
    containers only in a bare Pod (a template may not have any)."""
    spec_path = template.spec_path
    for list_name in CONTAINER_LISTS:
        if list_name == "ephemeralContainers" and template.path:
            continue
        items = template.spec.get(list_name)
        if not is_list(items):
            continue
        for index, item in enumerate(items):
            if is_map(item):
                yield (*spec_path, list_name, index), item


def _container_context(
    path: tuple[str | int, ...], container: Mapping[str, Any], options: MutationOptions
) -> list[Operation]:
    context = container.get("securityContext")
    context_path = (*path, "securityContext")
    if context is None:
        wanted: dict[str, Any] = {}
        if options.no_privilege_escalation:
            wanted["allowPrivilegeEscalation"] = False
        if options.drop_all_capabilities:
            wanted["capabilities"] = {"drop": ["ALL"]}
        return [_add(context_path, wanted)] if wanted else []
    if not is_map(context):
        return []
    operations: list[Operation] = []
    if (
        options.no_privilege_escalation
        and context.get("allowPrivilegeEscalation") is None
        and _may_forbid_escalation(context)
    ):
        operations.append(_add((*context_path, "allowPrivilegeEscalation"), False))
    if options.drop_all_capabilities:
        operations.extend(_drop_all(context_path, context))
    return operations


def _may_forbid_escalation(context: Mapping[str, Any]) -> bool:
    """``allowPrivilegeEscalation: false`` is valid here: the container is not privileged and does
    not add SYS_ADMIN (both rejected next to it). A malformed value of either is no promise."""
    privileged = context.get("privileged")
    if not (privileged is None or privileged is False):
        return False
    capabilities = context.get("capabilities")
    if capabilities is None:
        return True
    if not is_map(capabilities):
        return False
    added = capabilities.get("add")
    if added is None:
        return True
    if not is_list(added):
        return False
    return not any(not isinstance(name, str) or _capability(name) == "SYS_ADMIN" for name in added)


def _drop_all(context_path: tuple[str | int, ...], context: Mapping[str, Any]) -> list[Operation]:
    capabilities = context.get("capabilities")
    if capabilities is None:
        return [_add((*context_path, "capabilities"), {"drop": ["ALL"]})]
    if not is_map(capabilities):
        return []
    dropped = capabilities.get("drop")
    if dropped is None:
        return [_add((*context_path, "capabilities", "drop"), ["ALL"])]
    # Pod Security reads the exact string "ALL"; a list with "all" or "CAP_ALL" gets one as well.
    if not is_list(dropped) or "ALL" in dropped:
        return []
    return [_add((*context_path, "capabilities", "drop", "-"), "ALL")]


def _capability(name: str) -> str:
    return name.upper().removeprefix("CAP_")


def _seccomp(template: PodTemplate) -> list[Operation]:
    annotation = template.annotations.get(SECCOMP_POD_ANNOTATION)
    if annotation is not None and not (isinstance(annotation, str) and annotation in _RUNTIME_DEFAULT_ANNOTATIONS):
        return []  # an explicit legacy profile; the field must agree with it
    context_path = (*template.spec_path, "securityContext")
    context = template.spec.get("securityContext")
    profile = {"type": "RuntimeDefault"}
    if context is None:
        return [_add(context_path, {"seccompProfile": profile})]
    if is_map(context) and context.get("seccompProfile") is None:
        return [_add((*context_path, "seccompProfile"), profile)]
    return []


def _token_automount(obj: Mapping[str, Any], template: PodTemplate) -> list[Operation]:
    spec = template.spec
    if spec.get("automountServiceAccountToken") is not None or not _runs_as_default(spec):
        return []
    if _uses_api(obj.get("metadata"), _raw_metadata(obj, template.path)) is not False:
        return []  # it says it calls the API, or a malformed annotations map hides whether it does
    operations: list[Operation] = []
    if not template.path:  # a bare Pod: take back the token the ServiceAccount plugin mounted
        removals = _token_volume_removals(template)
        if removals is None:
            return []
        operations.extend(removals)
    operations.append(_add((*template.spec_path, "automountServiceAccountToken"), False))
    return operations


def _raw_metadata(obj: Mapping[str, Any], path: tuple[str, ...]) -> object:
    """The template's metadata as written (the template view shows a malformed one as empty)."""
    node: Any = obj
    for key in path:
        node = node.get(key)  # find_pod_template walked this path: every step is a mapping
    return node.get("metadata")


def _uses_api(*metadatas: object) -> bool | None:
    """Whether any of ``metadatas`` carries ``stockade.io/uses-api: "true"``; None when one of
    them (or its annotations) is not a mapping, so the answer cannot be read."""
    for metadata in metadatas:
        if metadata is None:
            continue
        if not is_map(metadata):
            return None
        annotations = metadata.get("annotations")
        if annotations is None:
            continue
        if not is_map(annotations):
            return None
        value = annotations.get(USES_API_ANNOTATION)
        if isinstance(value, str) and value.strip().lower() == "true":
            return True
    return False


def _runs_as_default(spec: Mapping[str, Any]) -> bool:
    """The pod runs as its namespace's default ServiceAccount (serviceAccountName, else the
    deprecated serviceAccount, else default; an empty name means default)."""
    for key in ("serviceAccountName", "serviceAccount"):
        value = spec.get(key)
        if value is None or value == "":
            continue
        return isinstance(value, str) and value == DEFAULT_SERVICE_ACCOUNT
    return True


def _token_volume_removals(template: PodTemplate) -> list[Operation] | None:
    """``remove`` operations for the ServiceAccount plugin's token volume and its mounts (highest
    index first, so earlier indexes stay valid), or None when a malformed list hides them."""
    spec_path = template.spec_path
    volumes = template.spec.get("volumes")
    if volumes is None:
        return []
    if not is_list(volumes):
        return None
    token_indexes = [index for index, volume in enumerate(volumes) if _is_token_volume(volume)]
    if not token_indexes:
        return []
    names = {volumes[index]["name"] for index in token_indexes}
    operations: list[Operation] = []
    for list_name in CONTAINER_LISTS:
        items = template.spec.get(list_name)
        if items is None:
            continue
        if not is_list(items):
            return None
        for index, container in enumerate(items):
            mounts = container.get("volumeMounts") if is_map(container) else None
            if mounts is None:
                continue
            if not is_list(mounts):
                return None
            mounts_path = (*spec_path, list_name, index, "volumeMounts")
            operations.extend(_removals(mounts_path, _indexes_named(mounts, names)))
    operations.extend(_removals((*spec_path, "volumes"), token_indexes))
    return operations


def _is_token_volume(volume: object) -> bool:
    """The projected volume the ServiceAccount plugin adds: kube-api-access-*, with a token source."""
    if not is_map(volume):
        return False
    name, projected = volume.get("name"), volume.get("projected")
    if not (isinstance(name, str) and name.startswith(API_ACCESS_VOLUME_PREFIX) and is_map(projected)):
        return False
    sources = projected.get("sources")
    return is_list(sources) and any(is_map(s) and s.get("serviceAccountToken") is not None for s in sources)


def _indexes_named(mounts: Sequence[Any], names: set[str]) -> list[int]:
    return [
        index
        for index, mount in enumerate(mounts)
        if is_map(mount) and isinstance(mount.get("name"), str) and mount["name"] in names
    ]


def _removals(list_path: tuple[str | int, ...], indexes: Sequence[int]) -> list[Operation]:
    return [{"op": "remove", "path": pointer((*list_path, index))} for index in sorted(indexes, reverse=True)]


def _add(path: tuple[str | int, ...], value: Any) -> Operation:
    return {"op": "add", "path": pointer(path), "value": value}


def pointer(path: Sequence[str | int]) -> str:
    """A JSON Pointer (RFC 6901) to ``path``: ``~`` is written ``~0`` and ``/`` is written ``~1``."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)
