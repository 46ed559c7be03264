"""Reading AdmissionReviews defensively and writing answers the API server accepts."""

from __future__ import annotations

import base64
import json
import unicodedata

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stockade.admission.review import (
    MAX_WARNING_LENGTH,
    MAX_WARNINGS,
    AdmissionRequest,
    ReviewError,
    parse_review,
    response_review,
    shorten,
)
from stockade.model.text import visible
from tests.admission.support import pod, review


def read(payload: bytes) -> AdmissionRequest | ReviewError:
    """The request, or the ReviewError (any other exception fails the test)."""
    try:
        return parse_review(payload)
    except ReviewError as error:
        return error


def body(document: object) -> bytes:
    return json.dumps(document).encode()


def test_a_review_is_read_with_its_request() -> None:
    sent = review(pod("web"), namespace="shop", user="bob", groups=["devs"], uid="u-1")
    request = parse_review(body(sent))
    assert (request.uid, request.operation, request.namespace, request.name) == ("u-1", "CREATE", "shop", "web")
    assert (request.kind.kind, request.resource.resource) == ("Pod", "pods")
    assert (request.user.username, request.user.groups) == ("bob", ("devs",))
    assert request.object == sent["request"]["object"] and request.old_object is None


@pytest.mark.parametrize(
    ("payload", "expected", "uid"),
    [
        (b"{not json", "not valid JSON", None),
        (b"[]", "must be a JSON object", None),
        (
            body({"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview", "request": {"uid": "u"}}),
            "expected apiVersion admission.k8s.io/v1",
            "u",
        ),
        (
            body({"apiVersion": "admission.k8s.io/v1", "kind": "Pod", "request": {"uid": "u"}}),
            "kind AdmissionReview",
            "u",
        ),
        (body({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}), "no request object", None),
        (
            body({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"operation": "CREATE"}}),
            "request.uid must be a non-empty string",
            None,
        ),
        (
            body({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": 7}}),
            "request.uid",
            None,
        ),
    ],
)
def test_a_review_that_cannot_be_read_says_why(payload: bytes, expected: str, uid: str | None) -> None:
    with pytest.raises(ReviewError) as caught:
        parse_review(payload)
    assert expected in caught.value.message
    assert caught.value.uid == uid


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("kind", "Pod", "request.kind must be an object, not a string"),
        ("resource", None, "request.resource must be an object, not null"),
        ("operation", "PATCH", "request.operation must be one of"),
        ("object", [1, 2], "request.object must be an object, not a list"),
        ("oldObject", "x", "request.oldObject must be an object, not a string"),
        ("userInfo", {"username": 5}, "request.userInfo.username must be a string, not a number"),
        ("userInfo", {"groups": "admins"}, "request.userInfo.groups must be a list of strings"),
        ("dryRun", "yes", "request.dryRun must be a boolean"),
        ("namespace", ["a"], "request.namespace must be a string, not a list"),
    ],
)
def test_a_field_of_the_wrong_type_is_named_with_the_uid(field: str, value: object, expected: str) -> None:
    sent = review(pod(), uid="u-2")
    sent["request"][field] = value
    with pytest.raises(ReviewError) as caught:
        parse_review(body(sent))
    assert caught.value.message.startswith(expected)
    assert caught.value.uid == "u-2"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


@given(
    st.dictionaries(
        st.sampled_from(["uid", "kind", "resource", "operation", "userInfo", "object", "oldObject", "dryRun", "name"]),
        json_values,
    )
)
def test_any_request_is_read_or_refused_with_a_review_error(request: dict[str, object]) -> None:
    document = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}
    outcome = read(orjson.dumps(document))
    assert not isinstance(outcome, ReviewError) or outcome.message


@given(st.binary(max_size=200))
def test_any_bytes_are_read_or_refused_with_a_review_error(payload: bytes) -> None:
    outcome = read(payload)
    assert not isinstance(outcome, ReviewError) or outcome.message


@given(st.text(max_size=400))
def test_shortened_text_fits_and_keeps_its_start(text: str) -> None:
    short = shorten(text)
    shown = visible(text)
    assert len(short) <= MAX_WARNING_LENGTH
    assert not any(unicodedata.category(c) == "Cc" for c in short)
    assert short == shown or (short.endswith("...") and shown.startswith(short[:-3]) and len(shown) > len(short))


def test_the_answer_carries_status_warnings_annotations_and_patch() -> None:
    long = "x" * 500
    answer = response_review(
        "u-3",
        allowed=False,
        code=403,
        message="denied\nbecause",
        reason="Forbidden",
        warnings=[long, "short", "short", "bell\a"],
        audit_annotations={"WL-001": "privileged"},
        patch=[{"op": "add", "path": "/metadata/labels", "value": {"a": "b"}}],
    )
    assert answer["apiVersion"] == "admission.k8s.io/v1" and answer["kind"] == "AdmissionReview"
    response = answer["response"]
    assert response["uid"] == "u-3" and response["allowed"] is False
    assert response["status"] == {
        "code": 403,
        "message": "denied\\nbecause",
        "reason": "Forbidden",
        "status": "Failure",
    }
    warnings = response["warnings"]
    assert warnings[0] == "x" * (MAX_WARNING_LENGTH - 3) + "..."
    assert warnings[1:] == ["short", "bell\\x07"]  # once each, control characters shown
    assert all(len(w) <= MAX_WARNING_LENGTH for w in warnings)
    assert response["auditAnnotations"] == {"WL-001": "privileged"}
    assert response["patchType"] == "JSONPatch"
    assert json.loads(base64.b64decode(response["patch"])) == [
        {"op": "add", "path": "/metadata/labels", "value": {"a": "b"}}
    ]


def test_many_warnings_are_counted_not_dropped() -> None:
    answer = response_review("u", allowed=True, warnings=[f"warning {i}" for i in range(50)])
    warnings = answer["response"]["warnings"]
    assert len(warnings) == MAX_WARNINGS
    assert warnings[-1] == f"and {50 - MAX_WARNINGS + 1} more warnings, not shown (at most {MAX_WARNINGS} are)"
    assert "status" not in answer["response"]
