"""The dashboard's pages: a Starlette app over the history store, rendered on the server.

Pages read the store through :mod:`stockade.dashboard.queries` (findings, lifecycles, exceptions),
:class:`~stockade.dashboard.trend.TrendCache` (the overview's trend) and the latest cluster view
(:mod:`stockade.views`: scorecard, attack paths, RBAC objects). Query parameters are checked
against what they may be; a bad one is a 400 page that says which.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from stockade.dashboard import queries
from stockade.dashboard.security import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    Access,
    Guard,
    csrf_matches,
    new_csrf_token,
)
from stockade.dashboard.trend import TrendCache
from stockade.model.finding import Area
from stockade.model.text import visible
from stockade.rbac import RbacIndex
from stockade.store import FindingStore
from stockade.views import rbac_inventory

HERE = Path(__file__).parent
TREND_DAYS = 30
_VERB = re.compile(r"\*|[A-Za-z][-A-Za-z0-9]*")
_NAME = re.compile(r"[-a-zA-Z0-9_.:@/*]{0,253}")  # namespaces, names, rules: what they may hold, roughly
_LOGIN_BODY_LIMIT = 4096
_POLICY_RULE = re.compile(r"POL-[-A-Za-z0-9_.]{1,200}")  # users' own policies: not in the registry


class BadRequest(Exception):
    """A query parameter that cannot be what it names."""


@dataclass(frozen=True, slots=True)
class DashboardSettings:
    access: Access = field(default_factory=Access)
    allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "[::1]", "::1")


class _Views:
    """Each cluster's latest view and the RBAC index built from it, rebuilt when a newer view lands."""

    def __init__(self, store: FindingStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._latest: dict[str, tuple[int, dt.datetime, dict[str, Any]]] = {}
        self._indexes: dict[tuple[str, int], RbacIndex] = {}

    def latest(self, cluster: str) -> tuple[int, dt.datetime, dict[str, Any]] | None:
        view_id = self.store.latest_view_id(cluster)
        if view_id is None:
            return None
        with self._lock:
            held = self._latest.get(cluster)
            if held is not None and held[0] == view_id:
                return held
        found = self.store.latest_view(cluster)
        if found is None:
            return None
        # A view landing between the two reads is held under the older id: the next read sees a
        # newer id and takes it again.
        entry = (view_id, found[0], found[1])
        with self._lock:
            self._latest[cluster] = entry
        return entry

    def rbac_index(self, cluster: str) -> tuple[RbacIndex, dt.datetime] | None:
        latest = self.latest(cluster)
        if latest is None:
            return None
        view_id, at, view = latest
        with self._lock:
            index = self._indexes.get((cluster, view_id))
        if index is None:
            live = bool(view.get("live"))
            index = RbacIndex.build(rbac_inventory(view), recompute_aggregation=not live, assume_defaults=True)
            with self._lock:
                self._indexes = {k: v for k, v in self._indexes.items() if k[0] != cluster}
                self._indexes[(cluster, view_id)] = index
        return index, at


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every template is HTML
        undefined=jinja2.StrictUndefined,
        # Every value rendered goes through visible(): escapes and bidi controls shown, not obeyed.
        finalize=lambda value: visible(value) if isinstance(value, str) else value,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["when"] = _when
    environment.filters["query"] = _query
    return environment


def _when(moment: dt.datetime | dt.date | None) -> str:
    if moment is None:
        return "—"
    if isinstance(moment, dt.datetime):
        return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return moment.isoformat()


def _query(values: Mapping[str, Any], **changes: Any) -> str:
    """A query string: ``values`` with ``changes``, empty values left out."""
    merged = {**values, **changes}
    return urllib.parse.urlencode({k: v for k, v in merged.items() if v not in (None, "")})


def _param(
    request: Request, name: str, allowed: tuple[str, ...] | None = None, pattern: re.Pattern[str] = _NAME
) -> str:
    value = request.query_params.get(name, "").strip()
    if not value:
        return ""
    if allowed is not None:
        if value not in allowed:
            raise BadRequest(f"{name} must be one of {', '.join(allowed)}")
    elif len(value) > 253 or not pattern.fullmatch(value):
        raise BadRequest(f"{name} is not something a {name} can be")
    return value


def _page_number(request: Request) -> int:
    try:
        number = int(request.query_params.get("page", "1"))
    except ValueError:
        raise BadRequest("page must be a whole number") from None
    if not 1 <= number <= 1_000_000:
        raise BadRequest("page must be between 1 and 1000000")
    return number


def create_app(store: FindingStore, settings: DashboardSettings | None = None) -> Starlette:
    """The dashboard over ``store`` (read-only: the app never writes to it)."""
    settings = settings or DashboardSettings()
    environment = _environment()
    trend = TrendCache(store.engine)
    views = _Views(store)
    from stockade.rules.registry import load_rules

    rules = load_rules()
    rule_ids = tuple(rules)
    area_of = {rule_id: rule.area.value for rule_id, rule in rules.items()}
    areas = tuple(a.value for a in Area)
    area_labels = {a.value: a.label for a in Area}

    def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        names = getattr(request.state, "cluster_names", None)
        if names is None:
            names = queries.cluster_names(store.engine)
        html = environment.get_template(template).render(
            user=request.scope.get("state", {}).get("user", ""),
            clusters=names,
            nav=request.url.path,
            access=settings.access,
            area_labels=area_labels,
            **context,
        )
        return HTMLResponse(html, status_code=status)

    def chosen_cluster(request: Request, required: bool) -> str:
        """The cluster asked for (checked against the store's), or the first when one is required."""
        names = queries.cluster_names(store.engine)
        request.state.cluster_names = names  # the page's selector lists them: read once
        cluster = _param(request, "cluster")
        if cluster and cluster not in names:
            raise BadRequest(f"no cluster named {cluster!r} in the store")
        if not cluster and required and names:
            return names[0]
        return cluster

    def overview(request: Request) -> Response:
        cluster = chosen_cluster(request, required=True)
        summaries = queries.cluster_summaries(store.engine)
        today = dt.datetime.now(dt.UTC).date()
        points = trend.days(cluster, today - dt.timedelta(days=TREND_DAYS - 1), today) if cluster else []
        latest = views.latest(cluster) if cluster else None
        stages = _stages_by_day(store.stage_history(cluster)) if cluster else []
        return page(
            request,
            "overview.html",
            stages=stages,
            cluster=cluster,
            summaries=summaries,
            points=points,
            chart=_chart(points),
            view=latest[2] if latest else None,
            view_at=latest[1] if latest else None,
        )

    def findings_page(request: Request) -> Response:
        cluster = chosen_cluster(request, required=False)
        severity = _param(request, "severity", queries.SEVERITIES)
        state = _param(request, "state", (*queries.STATES, "any")) or "open"
        area = _param(request, "area", areas)
        rule = _param(request, "rule")
        rule = rule.upper() if rule.upper() in rules else rule
        if rule and rule not in rules and not _POLICY_RULE.fullmatch(rule):
            raise BadRequest(f"no rule {rule!r}")
        namespace = _param(request, "namespace")
        number = _page_number(request)
        wanted = queries.FindingFilter(
            cluster=cluster or None,
            severity=severity or None,
            state=None if state == "any" else state,
            namespace=namespace or None,
            rules=queries.rules_of(area_of, area, rule, rule_ids),
            page=number,
        )
        found = queries.find(store.engine, wanted)
        filters = {
            "cluster": cluster,
            "severity": severity,
            "state": state,
            "area": area,
            "rule": rule,
            "namespace": namespace,
        }
        return page(
            request,
            "findings.html",
            cluster=cluster,
            found=found,
            filters=filters,
            severities=queries.SEVERITIES,
            states=(*queries.STATES, "any"),
            areas=areas,
            titles={r: rules[r].title for r in {row.rule_id for row in found.rows} if r in rules},
        )

    def finding_page(request: Request) -> Response:
        found = queries.finding(store.engine, int(request.path_params["finding_id"]))
        if found is None:
            return page(request, "error.html", 404, cluster="", message="no such finding")
        row, steps = found
        rule = rules.get(row.rule_id)
        return page(request, "finding.html", cluster=row.cluster, finding=row, steps=steps, rule=rule)

    def rbac_page(request: Request) -> Response:
        from stockade.errors import RbacQueryError
        from stockade.rbac.resources import parse_resource, request_for
        from stockade.report.rbac import MASTERS_NOTE, grant_row

        cluster = chosen_cluster(request, required=True)
        verb = _param(request, "verb", pattern=_VERB)
        resource = _param(request, "resource")
        namespace = _param(request, "namespace")
        name = _param(request, "name")
        form = {"cluster": cluster, "verb": verb, "resource": resource, "namespace": namespace, "name": name}
        built = views.rbac_index(cluster) if cluster else None
        answer: dict[str, Any] | None = None
        if verb and resource and built is not None:
            index, _ = built
            try:
                spec = parse_resource(resource)
            except RbacQueryError as error:
                raise BadRequest(str(error)) from None
            asked = request_for(spec, verb, name, namespace or None)
            grants = index.who_can(asked).grants
            answer = {
                "request": str(asked),
                "rows": [grant_row(g) for g in grants],
                "cluster_only": asked.scope is None and asked.is_resource_request and not spec.cluster_scoped,
                "note": MASTERS_NOTE,
            }
        return page(
            request,
            "rbac.html",
            cluster=cluster,
            form=form,
            answer=answer,
            view_at=built[1] if built else None,
            has_view=built is not None,
        )

    def paths_page(request: Request) -> Response:
        cluster = chosen_cluster(request, required=True)
        latest = views.latest(cluster) if cluster else None
        paths = latest[2].get("paths") if latest else None
        return page(request, "paths.html", cluster=cluster, paths=paths, view_at=latest[1] if latest else None)

    def exceptions_page(request: Request) -> Response:
        cluster = chosen_cluster(request, required=False)
        found = queries.exceptions(store.engine, cluster or None, _page_number(request))
        today = dt.datetime.now(dt.UTC).date()
        return page(request, "exceptions.html", cluster=cluster, exceptions=found, today=today)

    async def login(request: Request) -> Response:
        access = settings.access
        if access.token is None:
            return RedirectResponse("/", status_code=303)
        if request.method == "GET":
            token = new_csrf_token()
            return _with_csrf(request, page(request, "login.html", cluster="", csrf=token, failed=False), token)
        body = await _bounded_body(request)
        if body is None:
            return PlainTextResponse("the form is too large", status_code=413)
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        if not csrf_matches(request.cookies.get(CSRF_COOKIE), (form.get("csrf") or [""])[0]):
            return PlainTextResponse("the form's CSRF token does not match (reload the sign-in page)", status_code=403)
        if not access.token_matches((form.get("token") or [""])[0]):
            token = new_csrf_token()
            return _with_csrf(request, page(request, "login.html", 401, cluster="", csrf=token, failed=True), token)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            SESSION_COOKIE, access.session_value(), httponly=True, samesite="strict", secure=_https(request)
        )
        response.delete_cookie(CSRF_COOKIE, path="/login")
        return response

    def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def bad_request(request: Request, error: Exception) -> Response:
        return page(request, "error.html", 400, cluster="", message=str(error))

    app = Starlette(
        routes=[
            Route("/", overview),
            Route("/findings", findings_page),
            Route("/findings/{finding_id:int}", finding_page),
            Route("/rbac", rbac_page),
            Route("/paths", paths_page),
            Route("/exceptions", exceptions_page),
            Route("/login", login, methods=["GET", "POST"]),
            Route("/healthz", healthz),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ],
        middleware=[Middleware(Guard, access=settings.access, allowed_hosts=settings.allowed_hosts)],
        exception_handlers={BadRequest: bad_request},
    )

    def warm() -> None:
        """Fold every cluster's transitions now, so the first overview does not wait for it."""
        today = dt.datetime.now(dt.UTC).date()
        for name in queries.cluster_names(store.engine):
            trend.days(name, today, today)

    app.state.warm = warm
    return app


def _with_csrf(request: Request, response: Response, token: str) -> Response:
    """The sign-in form's response, with the cookie its CSRF field must match."""
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login", secure=_https(request))
    return response


STAGE_DAYS = 8


def _stages_by_day(history: list[tuple[dt.datetime, dict[str, str]]]) -> list[tuple[dt.date, dict[str, str]]]:
    """Each area's stage as the last view of each day left it, for the most recent days."""
    by_day: dict[dt.date, dict[str, str]] = {}
    for at, stages in history:  # oldest first: a later view of the day wins
        by_day[at.astimezone(dt.UTC).date()] = stages
    return sorted(by_day.items())[-STAGE_DAYS:]


def _https(request: Request) -> bool:
    return request.url.scheme == "https"


async def _bounded_body(request: Request) -> bytes | None:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _LOGIN_BODY_LIMIT:
            return None
    return body


@dataclass(frozen=True, slots=True)
class Chart:
    """The trend as SVG polyline points (open findings per day), drawn without script or style."""

    width: int
    height: int
    points: str
    peak: int


def _chart(points: list[Any], width: int = 600, height: int = 120) -> Chart | None:
    if not points:
        return None
    peak = max(p.open_total for p in points) or 1
    step = width / max(1, len(points) - 1)
    coordinates = " ".join(
        f"{i * step:.1f},{height - (p.open_total / peak) * (height - 10) - 5:.1f}" for i, p in enumerate(points)
    )
    return Chart(width, height, coordinates, peak)
