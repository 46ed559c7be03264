"""The webhook's ASGI app (Starlette): every answer the API server can get from Stockade.

- ``POST /validate``: an AdmissionReview in, an AdmissionReview out (:mod:`.decide`). CONNECT
  requests (``pods/exec``, ``attach``, ``portforward``) are always allowed and handed to
  ``on_connect`` (the break-glass trail), never judged.
- ``POST /mutate``: safe defaults as a JSONPatch, from ``stockade.admission.mutate.safe_defaults``
  when that module is there; without it, allowed with no patch.
- ``GET /metrics`` (Prometheus), ``GET /healthz`` (alive), ``GET /readyz`` (the namespace cache
  has listed every namespace once; 503 with the reasons until then).

Whatever comes in gets a well-formed AdmissionReview with a message, never a traceback: a body
over ``max_body`` bytes (413, read no further), a content type that is not JSON (415), malformed
JSON or a review that is not ``admission.k8s.io/v1`` (400 when no ``request.uid`` could be read,
else 200 so the API server reads the answer), an internal error. Those that cannot be decided are
allowed or denied by the failure policy. One JSON log line is written per denial, per request with
dry-run findings and per error; it names the object, the user and the rules, never the object's
content (Secret values are blanked before any rule reads them).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from stockade.admission.decide import AdmissionDecider, Decision, failure_decision
from stockade.admission.logs import log_event
from stockade.admission.metrics import AdmissionMetrics
from stockade.admission.mutate import MutationOptions
from stockade.admission.mutate import safe_defaults as default_safe_defaults
from stockade.admission.review import AdmissionRequest, ReviewError, encode, parse_review, response_review

log = logging.getLogger("stockade.admission")

# The API server takes objects up to 1.5 MiB (etcd's limit) and an UPDATE's review carries the
# object twice; 6 MiB leaves room for that and refuses anything larger.
DEFAULT_MAX_BODY: Final = 6 * 1024 * 1024
JSON_TYPE: Final = "application/json"
METRICS_CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"
# metav1.Status reasons of the answers to requests that cannot be decided.
_REASONS: Final = {400: "BadRequest", 413: "RequestEntityTooLarge", 415: "UnsupportedMediaType"}

SafeDefaults = Callable[[Mapping[str, Any], str, MutationOptions], list[dict[str, Any]]]
ConnectRecorder = Callable[[AdmissionRequest], None]
_Judging = Callable[[AdmissionRequest], tuple[Decision, list[dict[str, Any]] | None]]


class _TooLarge(Exception):
    pass


def _answer(review: dict[str, Any], status: int = 200) -> Response:
    return Response(encode(review), status_code=status, media_type=JSON_TYPE)


def _review_of(uid: str, decision: Decision, patch: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    return response_review(
        uid,
        allowed=decision.allowed,
        code=decision.code,
        message=decision.message,
        reason=decision.reason,
        warnings=decision.warnings,
        audit_annotations=decision.audit_annotations,
        patch=patch,
    )


def build_app(
    decider: AdmissionDecider,
    metrics: AdmissionMetrics,
    *,
    ready: Callable[[], list[str]] = list,
    max_body: int = DEFAULT_MAX_BODY,
    on_connect: ConnectRecorder | None = None,
    safe_defaults: SafeDefaults | None = None,
) -> Starlette:
    """The app. ``ready``: why the webhook is not ready (empty: it is); ``safe_defaults``: the
    mutation (default: :func:`stockade.admission.mutate.safe_defaults`)."""
    policy = decider.config.failure_policy
    mutation = safe_defaults if safe_defaults is not None else default_safe_defaults
    mutate_options = decider.config.mutate

    async def body_of(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_body:
            raise _TooLarge
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_body:
                raise _TooLarge
            chunks.append(chunk)
        return b"".join(chunks)

    def refused(reason: str, message: str, status: int, uid: str | None = None) -> Response:
        """A request that cannot be decided: answered by the failure policy, with the message."""
        metrics.rejected.labels(reason=reason).inc()
        log_event("rejected", None, reason=reason, message=message, uid=uid)
        decision = failure_decision(policy, message, status, _REASONS.get(status, "BadRequest"))
        http_status = 200 if uid else status
        return _answer(_review_of(uid or "", decision), http_status)

    async def admission_request(request: Request) -> AdmissionRequest | Response:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != JSON_TYPE:
            shown = content_type or "none"
            return refused("content-type", f"expected Content-Type {JSON_TYPE}, found {shown}", 415)
        try:
            body = await body_of(request)
        except _TooLarge:
            return refused("too-large", f"the request body is larger than {max_body:,} bytes", 413)
        try:
            return parse_review(body)
        except ReviewError as error:
            return refused("malformed", error.message, error.code, error.uid)

    async def answered(request: Request, endpoint: str, judge: _Judging, failing: str) -> Response:
        """Read the review, ``judge`` it and answer; whatever goes wrong past reading is answered
        by the failure policy (``failing`` says where), never as a 500 with a traceback."""
        try:
            parsed = await admission_request(request)
        except ClientDisconnect:
            return Response(status_code=400)
        if isinstance(parsed, Response):
            return parsed
        started = time.perf_counter()
        try:
            decision, patch = judge(parsed)
            review = _review_of(parsed.uid, decision, patch)
        except Exception as exc:  # a decision that raised, or a patch that cannot be encoded
            log.exception("answering %s failed", parsed.display)
            decision = failure_decision(policy, f"{failing} ({type(exc).__name__})")
            review = _review_of(parsed.uid, decision)
        _account(endpoint, parsed, decision, time.perf_counter() - started)
        return _answer(review)

    def _validated(parsed: AdmissionRequest) -> tuple[Decision, None]:
        return (_connected(parsed) if parsed.operation == "CONNECT" else decider.decide(parsed)), None

    async def validate(request: Request) -> Response:
        return await answered(request, "validate", _validated, "internal error")

    def _connected(parsed: AdmissionRequest) -> Decision:
        if on_connect is not None:
            try:
                on_connect(parsed)
            except Exception:
                log.exception("recording %s failed", parsed.display)
        return Decision(True)

    def _account(endpoint: str, parsed: AdmissionRequest, decision: Decision, seconds: float) -> None:
        result = "error" if decision.error else "allowed" if decision.allowed else "denied"
        metrics.answered(endpoint, parsed.operation, result, seconds)
        metrics.findings((v.rule_id, v.mode, v.result) for v in decision.verdicts)
        metrics.pod_security_evaluated(decision.pod_security)
        if decision.error:
            log_event("error", parsed, logging.WARNING, allowed=decision.allowed, message=decision.error)
        if not decision.allowed:
            log_event("denied", parsed, rules=list(decision.denied_rules), message=decision.message)
        dry = [{"rule": v.rule_id, "message": v.message} for v in decision.verdicts if v.result == "dry-run"]
        if dry:
            log_event("dry-run", parsed, findings=dry)

    async def mutate(request: Request) -> Response:
        return await answered(request, "mutate", _mutated, "internal error in safe defaults")

    def _mutated(parsed: AdmissionRequest) -> tuple[Decision, list[dict[str, Any]] | None]:
        # A pod's spec cannot change once it exists: a patch to an UPDATE of a Pod would be refused.
        operations = ("CREATE",) if parsed.kind.kind == "Pod" and parsed.kind.group == "" else ("CREATE", "UPDATE")
        judged = parsed.operation in operations and not parsed.sub_resource and parsed.object is not None
        config = decider.config
        if not judged:
            return Decision(True), None
        exempt = config.exemptions.reason(parsed.namespace, parsed.user.username, parsed.user.groups)
        if exempt is not None:
            return Decision(True, exempt=exempt), None
        assert parsed.object is not None
        try:
            patch = mutation(parsed.object, parsed.kind.kind, mutate_options)
        except Exception as exc:
            log.exception("the safe defaults of %s failed", parsed.display)
            return failure_decision(policy, f"internal error in safe defaults ({type(exc).__name__})"), None
        return Decision(True), patch or None

    async def serve_metrics(request: Request) -> Response:
        return Response(metrics.render(), media_type=METRICS_CONTENT_TYPE)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True, "problems": []})

    async def readyz(request: Request) -> Response:
        problems = ready()
        return JSONResponse({"ok": not problems, "problems": problems}, status_code=503 if problems else 200)

    return Starlette(
        routes=[
            Route("/validate", validate, methods=["POST"]),
            Route("/mutate", mutate, methods=["POST"]),
            Route("/metrics", serve_metrics, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
        ]
    )
