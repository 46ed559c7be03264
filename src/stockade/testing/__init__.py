"""Test helpers for Stockade and for people testing their own policies against a "cluster".

:class:`FakeApiServer` is an in-process Kubernetes API server. It serves raw objects over real
HTTP or HTTPS with the real protocol — discovery (``/version``, ``/api``, ``/apis``, resource
lists with scope, kind and verbs, CRD-declared kinds), get, list with ``limit``/``continue``
paging, chunked watch streams with bookmarks and 410 Gone, and writes (create, replace, merge,
strategic-merge and JSON patch, delete, with resourceVersion preconditions answered 409) — so the
official ``kubernetes`` client, ``kubectl`` and Stockade's cluster source run against it
unchanged. Tests steer it: change objects while a watch is open, forbid resources or only writes
to them (403 with the API server's message), confine the user to some namespaces (as a
RoleBinding per namespace would), and inject faults (delays, dropped connections, 429 with
Retry-After, 500) into chosen requests. :func:`policy_report_crds` gives the wgpolicyk8s.io
PolicyReport CRDs to load, so policyreports are served.

Usage::

    from kubernetes import client, config
    from stockade.testing import FakeApiServer

    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
    }
    with FakeApiServer([pod], tls=True, token="t0ken", forbidden=["secrets"]) as server:
        path = server.kubeconfig(tmp_path / "kubeconfig")          # written 0600, CA included
        api = config.new_client_from_config(config_file=str(path))
        pods = client.CoreV1Api(api).list_pod_for_all_namespaces(limit=500)
        assert [p.metadata.name for p in pods.items] == ["web"]

        server.inject("/api/v1/pods", status=429, retry_after=1, times=2)  # next two lists: 429
        server.update({**pod, "metadata": {**pod["metadata"], "labels": {"tier": "front"}}})
        api.close()

Objects live in memory only; Secrets keep their real values (so a test can plant a value and
check that it never leaks). Tests write either through the server object (``create``,
``update``, ``apply``, ``delete``) or over HTTP like any client; both bump the resourceVersion
and reach open watches. A strategic merge patch is applied as a JSON merge patch (the fake knows
no patch strategies of built-in fields, so a list is replaced, not merged). Created objects get a
fixed ``creationTimestamp`` (2024-01-01) so that outputs stay reproducible.

Its TLS certificates are made with ``cryptography``, a dependency of Stockade; an install that lost
it gets an ImportError that says so.
"""

try:
    import cryptography  # noqa: F401 - only to fail early with the extra's name
except ImportError as exc:
    raise ImportError(
        "stockade.testing needs cryptography, a dependency of stockade that is missing: pip install 'cryptography>=42'"
    ) from exc

from stockade.testing._crds import policy_report_crds
from stockade.testing._state import Fault, RequestRecord
from stockade.testing.fake_apiserver import DEFAULT_CONTEXT, FakeApiServer

__all__ = ["DEFAULT_CONTEXT", "FakeApiServer", "Fault", "RequestRecord", "policy_report_crds"]
