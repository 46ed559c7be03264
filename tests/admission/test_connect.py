"""The break-glass trail: CONNECT AdmissionReviews for pods/exec, attach and portforward become
``stockade.connect/v1`` events; everything else (and anything malformed) becomes None.

The requests are shaped as the API server sends them: ``request.kind`` and ``request.object`` are
the options kind (PodExecOptions…), ``resource`` is pods with ``subResource`` exec, ``options`` is
null, and ``userInfo`` is the authorised identity.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from importlib import resources
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stockade.admission.connect import SCHEMA, SCHEMA_RESOURCE, ConnectEvent, connect_event

SCHEMA_DOC = json.loads((resources.files("stockade") / SCHEMA_RESOURCE).read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA_DOC)
WHEN = dt.datetime(2025, 3, 1, 9, 30, 12, 345678, tzinfo=dt.UTC)


def clock() -> dt.datetime:
    return WHEN


def review_request(subresource: str, options: dict[str, Any] | None, **overrides: Any) -> dict[str, Any]:
    """An AdmissionReview ``request`` for a CONNECT to pods/<subresource>, as the API server sends it."""
    kind = {"exec": "PodExecOptions", "attach": "PodAttachOptions", "portforward": "PodPortForwardOptions"}.get(
        subresource, "PodProxyOptions"
    )
    gvk = {"group": "", "version": "v1", "kind": kind}
    gvr = {"group": "", "version": "v1", "resource": "pods"}
    request: dict[str, Any] = {
        "uid": "5cf446fc-5745-47a1-aecd-f4231a676bd6",
        "kind": gvk,
        "resource": gvr,
        "subResource": subresource,
        "requestKind": gvk,
        "requestResource": gvr,
        "requestSubResource": subresource,
        "name": "api-7d9f8c6b5-x2x7q",
        "namespace": "shop",
        "operation": "CONNECT",
        "userInfo": {
            "username": "alice@example.com",
            "uid": "b6e1c0a2-0000-4000-8000-000000000001",
            "groups": ["oncall", "system:authenticated"],
            "extra": {
                "authentication.kubernetes.io/credential-id": ["JTI=4f1c2d"],
                "acme.example.com/ticket": ["INC-42", "INC-43"],
            },
        },
        "object": None if options is None else {"kind": kind, "apiVersion": "v1", **options},
        "oldObject": None,
        "dryRun": False,
        "options": None,
    }
    request.update(overrides)
    return request


def schema_errors(data: dict[str, Any]) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(data)]


def test_schema_is_valid_and_names_this_version() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA_DOC)
    assert SCHEMA_DOC["properties"]["schema"]["const"] == SCHEMA == "stockade.connect/v1"


def test_exec_records_who_which_pod_what_and_when() -> None:
    request = review_request(
        "exec",
        {"stdin": True, "stdout": True, "tty": True, "container": "api", "command": ["/bin/sh", "-c", "id; env"]},
    )
    event = connect_event(request, clock)
    assert event is not None
    assert event.to_json() == {
        "schema": "stockade.connect/v1",
        "time": "2025-03-01T09:30:12.345Z",
        "request_uid": "5cf446fc-5745-47a1-aecd-f4231a676bd6",
        "subresource": "exec",
        "user": {
            "username": "alice@example.com",
            "uid": "b6e1c0a2-0000-4000-8000-000000000001",
            "groups": ["oncall", "system:authenticated"],
            "extra": {
                "acme.example.com/ticket": ["INC-42", "INC-43"],
                "authentication.kubernetes.io/credential-id": ["JTI=4f1c2d"],
            },
        },
        "pod": {"namespace": "shop", "name": "api-7d9f8c6b5-x2x7q"},
        "container": "api",
        "command": ["/bin/sh", "-c", "id; env"],
        "ports": None,
        "stdin": True,
        "stdout": True,
        "stderr": None,
        "tty": True,
        "dry_run": False,
    }
    assert schema_errors(event.to_json()) == []
    assert list(event.to_json()) == list(SCHEMA_DOC["required"])  # stable key order, every key present
    assert event.summary() == "alice@example.com exec shop/api-7d9f8c6b5-x2x7q [api]: /bin/sh -c 'id; env'"


def test_attach_has_a_container_and_no_command() -> None:
    event = connect_event(review_request("attach", {"stdin": True, "stdout": True, "container": "api"}), clock)
    assert event is not None
    data = event.to_json()
    assert (data["subresource"], data["container"], data["command"], data["ports"]) == ("attach", "api", None, None)
    assert schema_errors(data) == []


def test_portforward_records_the_ports_the_request_names() -> None:
    event = connect_event(review_request("portforward", {"ports": [8080, 5432]}), clock)
    assert event is not None
    assert event.ports == (8080, 5432)
    assert event.to_json()["ports"] == [8080, 5432]
    assert event.summary() == "alice@example.com portforward shop/api-7d9f8c6b5-x2x7q: ports 8080,5432"


def test_kubectl_port_forward_without_ports_in_the_url_is_still_recorded() -> None:
    # kubectl names the ports in the stream headers, so the options object carries none.
    event = connect_event(review_request("portforward", {}), clock)
    assert event is not None
    assert event.ports is None
    assert schema_errors(event.to_json()) == []


def test_missing_options_object_keeps_who_and_which_pod() -> None:
    event = connect_event(review_request("exec", None), clock)
    assert event is not None
    assert (event.username, event.namespace, event.pod, event.command, event.container) == (
        "alice@example.com",
        "shop",
        "api-7d9f8c6b5-x2x7q",
        None,
        None,
    )


def test_minimal_user_info_and_empty_strings_as_unset() -> None:
    request = review_request(
        "exec", {"container": "", "command": ["ls"]}, userInfo={"username": "system:serviceaccount:ci:deployer"}
    )
    event = connect_event(request, clock)
    assert event is not None
    assert event.to_json()["user"] == {
        "username": "system:serviceaccount:ci:deployer",
        "uid": None,
        "groups": [],
        "extra": {},
    }
    assert event.container is None  # "" is the API server's zero value: no container named


def test_dry_run_is_recorded() -> None:
    event = connect_event(review_request("exec", {"command": ["ls"]}, dryRun=True), clock)
    assert event is not None
    assert event.to_json()["dry_run"] is True


def test_time_comes_from_the_clock_in_utc() -> None:
    plus_two = dt.timezone(dt.timedelta(hours=2))
    event = connect_event(review_request("exec", {}), lambda: dt.datetime(2025, 3, 1, 11, 0, tzinfo=plus_two))
    assert event is not None
    assert event.time == dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
    assert event.to_json()["time"] == "2025-03-01T09:00:00.000Z"
    naive = connect_event(review_request("exec", {}), lambda: dt.datetime(2025, 3, 1, 9, 0))
    assert naive is not None
    assert naive.to_json()["time"] == "2025-03-01T09:00:00.000Z"


def test_default_clock_is_now() -> None:
    before = dt.datetime.now(dt.UTC)
    event = connect_event(review_request("exec", {}))
    after = dt.datetime.now(dt.UTC)
    assert event is not None
    assert before <= event.time <= after


def test_summary_escapes_control_characters() -> None:
    event = connect_event(review_request("exec", {"command": ["sh", "-c", "echo \x1b[2Jgone\nfake line"]}), clock)
    assert event is not None
    line = event.summary()
    assert "\x1b" not in line and "\n" not in line
    assert "\\x1b[2Jgone\\nfake line" in line
    assert event.command == ("sh", "-c", "echo \x1b[2Jgone\nfake line")  # the record keeps it as given


@pytest.mark.parametrize(
    ("label", "change"),
    [
        ("CREATE of a pod", {"operation": "CREATE", "subResource": None, "object": {"kind": "Pod"}}),
        ("CONNECT to pods/proxy", {"subResource": "proxy"}),
        ("CONNECT to services/proxy", {"resource": {"group": "", "version": "v1", "resource": "services"}}),
        ("CONNECT to nodes/proxy", {"resource": {"group": "", "version": "v1", "resource": "nodes"}}),
        ("pods of another group", {"resource": {"group": "example.com", "version": "v1", "resource": "pods"}}),
        ("no subresource", {"subResource": None}),
    ],
)
def test_other_requests_are_not_events(label: str, change: dict[str, Any]) -> None:
    assert connect_event(review_request("exec", {"command": ["ls"]}, **change), clock) is None, label


@pytest.mark.parametrize(
    ("label", "change"),
    [
        ("no uid", {"uid": None}),
        ("empty uid", {"uid": ""}),
        ("uid not a string", {"uid": 7}),
        ("no pod name", {"name": None}),
        ("no namespace", {"namespace": None}),
        ("namespace not a string", {"namespace": ["shop"]}),
        ("no userInfo", {"userInfo": None}),
        ("userInfo a string", {"userInfo": "alice"}),
        ("no username", {"userInfo": {"groups": ["x"]}}),
        ("groups a string", {"userInfo": {"username": "a", "groups": "system:masters"}}),
        ("group not a string", {"userInfo": {"username": "a", "groups": ["ok", 3]}}),
        ("extra a list", {"userInfo": {"username": "a", "extra": ["x"]}}),
        ("extra value a string", {"userInfo": {"username": "a", "extra": {"k": "v"}}}),
        ("object a list", {"object": ["ls"]}),
        ("object of another kind", {"object": {"kind": "PodAttachOptions", "command": ["ls"]}}),
        ("command a string", {"object": {"kind": "PodExecOptions", "command": "rm -rf /"}}),
        ("command item not a string", {"object": {"kind": "PodExecOptions", "command": ["ls", None]}}),
        ("container not a string", {"object": {"kind": "PodExecOptions", "container": 1}}),
        ("tty not a boolean", {"object": {"kind": "PodExecOptions", "tty": "true"}}),
        ("dryRun not a boolean", {"dryRun": "no"}),
        ("resource a string", {"resource": "pods"}),
    ],
)
def test_malformed_requests_give_none(label: str, change: dict[str, Any]) -> None:
    assert connect_event(review_request("exec", {"command": ["ls"]}, **change), clock) is None, label


@pytest.mark.parametrize("ports", [[0], [65536], ["8080"], [True], "8080", [8080.0]])
def test_malformed_ports_give_none(ports: Any) -> None:
    assert connect_event(review_request("portforward", {"ports": ports}), clock) is None


@pytest.mark.parametrize("request_value", [None, [], "CONNECT", 42, b"{}"])
def test_a_request_that_is_not_an_object_gives_none(request_value: Any) -> None:
    assert connect_event(request_value, clock) is None


def test_input_is_not_changed() -> None:
    request = review_request("exec", {"command": ["ls"], "container": "api"})
    before = copy.deepcopy(request)
    connect_event(request, clock)
    assert request == before


def test_event_is_frozen() -> None:
    event = connect_event(review_request("exec", {}), clock)
    assert isinstance(event, ConnectEvent)
    with pytest.raises(AttributeError):
        event.pod = "other"  # type: ignore[misc]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
request_keys = st.sampled_from(
    ["uid", "name", "namespace", "operation", "subResource", "resource", "userInfo", "object", "dryRun"]
)


@settings(max_examples=300, deadline=None)
@given(
    subresource=st.sampled_from(["exec", "attach", "portforward"]), changes=st.dictionaries(request_keys, json_values)
)
def test_any_request_gives_an_event_that_validates_or_none(subresource: str, changes: dict[str, Any]) -> None:
    event = connect_event(review_request(subresource, {}, **changes), clock)
    if event is not None:
        assert schema_errors(event.to_json()) == []
        assert event.subresource in ("exec", "attach", "portforward")
        event.summary()
