"""Every page over HTTP against a store a watcher and a scan filled: what it shows is what the
store holds, filters narrow it, bad parameters are a 400 that says which."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from stockade.dashboard.server import DashboardServer
from stockade.engine.evaluate import fingerprint
from stockade.model.finding import Finding, Location, ResourceRef, Severity, Status
from stockade.model.result import ScanResult
from stockade.model.text import visible
from stockade.store import FindingStore
from stockade.store.schema import clusters, findings
from tests.dashboard.data import HOSTILE, SCANNED, WATCHED
from tests.dashboard.http import get

ROW = re.compile(
    r"<tr>\s*<td class=\"sev-(\w+)\">\w+</td>\s*<td class=\"rule\"><a href=\"/findings/(\d+)\"[^>]*>([A-Z]+-[-\w.]+)</a>"
)


def rows(body: str) -> list[tuple[str, int, str]]:
    """(severity, finding id, rule) of each row of the findings table."""
    return [(severity, int(number), rule) for severity, number, rule in ROW.findall(body)]


def finding_id(store: FindingStore, cluster: str, rule: str, name: str) -> int:
    query = (
        select(findings.c.id)
        .join(clusters, clusters.c.id == findings.c.cluster_id)
        .where(clusters.c.name == cluster, findings.c.rule_id == rule, findings.c.name == name)
    )
    with store.engine.connect() as conn:
        found = conn.scalar(query)
    assert found is not None
    return int(found)


def ids_of(store: FindingStore, cluster: str, fingerprints: set[str]) -> set[int]:
    query = (
        select(findings.c.id, findings.c.fingerprint)
        .join(clusters, clusters.c.id == findings.c.cluster_id)
        .where(clusters.c.name == cluster)
    )
    with store.engine.connect() as conn:
        return {row.id for row in conn.execute(query) if row.fingerprint in fingerprints}


def test_the_overview_counts_what_the_store_holds(dashboard: DashboardServer, store: FindingStore) -> None:
    reply = get(dashboard.url, "/", cluster=SCANNED)
    assert reply.status == 200
    for cluster in (WATCHED, SCANNED):
        counts = Counter(f.severity.value for f in store.open_findings(cluster))
        row = re.search(rf'<a href="/\?cluster={cluster}">{cluster}</a></td>(.*?)</tr>', reply.body, re.S)
        assert row is not None, cluster
        shown = re.findall(r'class="num sev-(\w+)"><a [^>]*>(\d+)</a>', row.group(1))
        assert {severity: int(n) for severity, n in shown} == {s: counts.get(s, 0) for s, _ in shown}
        assert len(shown) == 5


def test_the_overview_shows_the_scorecard_of_the_latest_view(dashboard: DashboardServer, store: FindingStore) -> None:
    latest = store.latest_view(SCANNED)
    assert latest is not None
    areas = latest[1]["scorecard"]["areas"]
    body = get(dashboard.url, "/", cluster=SCANNED).body
    table = body[body.index('id="scorecard"') :]
    table = table[: table.index("</table>")]
    assert table.count('<td class="stage stage-') == len(areas) == 14
    for area in areas:
        assert f"<td>{html.escape(area['label'])}</td>" in table
    # Container privileges fail at crawl here (privileged pods): not crawling, with its blockers.
    privileges = next(a for a in areas if a["area"] == "container-privileges")
    assert privileges["summary"] == "not crawling"
    assert "WL-001" in table


def test_the_stage_history_shows_each_days_last_view(dashboard: DashboardServer, store: FindingStore) -> None:
    history = store.stage_history(SCANNED)
    assert len(history) == 2  # two days ago (only a Role) and now
    body = get(dashboard.url, "/", cluster=SCANNED).body
    table = body[body.index('id="stage-history"') :]
    table = table[: table.index("</table>")]
    days = re.findall(r"<th>(\d{4}-\d\d-\d\d)</th>", table)
    assert days == [at.date().isoformat() for at, _ in history]
    row = re.search(r"<td>container privileges</td>(.*?)</tr>", table)
    assert row is not None
    assert re.findall(r'<td class="stage [^"]*">([^<]*)</td>', row.group(1)) == ["not assessed", "not crawling"]
    # The watched cluster has views from one day only: no history table.
    assert 'id="stage-history"' not in get(dashboard.url, "/", cluster=WATCHED).body


def test_the_trend_draws_the_last_thirty_days(dashboard: DashboardServer) -> None:
    body = get(dashboard.url, "/", cluster=WATCHED).body
    points = re.search(r'<polyline [^>]*points="([^"]+)"', body)
    assert points is not None and len(points.group(1).split()) == 30
    today = re.search(r'<tbody>\s*<tr><td>(\d{4}-\d\d-\d\d)</td><td class="num">(\d+)</td>', body)
    assert today is not None and today.group(2) == "1"  # web open; api resolved by the fix


@pytest.mark.parametrize(
    ("params", "keep"),
    [
        ({"severity": "critical"}, lambda f: f.severity.value == "critical"),
        ({"rule": "WL-001"}, lambda f: f.rule_id == "WL-001"),
        ({"area": "rbac"}, lambda f: f.rule_id.startswith("RB-")),
        (
            {"namespace": "shop", "severity": "high"},
            lambda f: f.resource.namespace == "shop" and f.severity.value == "high",
        ),
    ],
    ids=["severity", "rule", "area", "namespace-and-severity"],
)
def test_filters_show_exactly_the_matching_open_findings(
    dashboard: DashboardServer, store: FindingStore, params: dict[str, str], keep: object
) -> None:
    expected = ids_of(store, SCANNED, {f.fingerprint for f in store.open_findings(SCANNED) if keep(f)})  # type: ignore[operator]
    assert expected, "the filter would match nothing: the test would prove little"
    body = get(dashboard.url, "/findings", cluster=SCANNED, **params).body
    shown = {number for _, number, _ in rows(body)}
    assert shown == expected
    assert f"{len(expected)} finding" in body


def test_the_state_filter_and_every_cluster(dashboard: DashboardServer, store: FindingStore) -> None:
    excepted = rows(get(dashboard.url, "/findings", state="excepted").body)
    assert [rule for _, _, rule in excepted] == ["WL-001"]
    resolved = rows(get(dashboard.url, "/findings", state="resolved").body)
    assert resolved == [("critical", finding_id(store, WATCHED, "WL-001", "api"), "WL-001")]
    everything = get(dashboard.url, "/findings", state="any").body
    total = sum(len(store.open_findings(c, include_excepted=True)) for c in (WATCHED, SCANNED)) + 1
    assert f"{total} findings" in everything


def test_pages_split_long_lists_worst_first(dashboard: DashboardServer) -> None:
    first = get(dashboard.url, "/findings", cluster=SCANNED, state="any")
    match = re.search(r"(\d+) findings, page 1 of (\d+)", first.body)
    assert match is not None and int(match.group(2)) >= 2
    second = get(dashboard.url, "/findings", cluster=SCANNED, state="any", page="2")
    one, two = rows(first.body), rows(second.body)
    assert len(one) == 50 and two and not {n for _, n, _ in one} & {n for _, n, _ in two}
    order = ["critical", "high", "medium", "low", "info"]
    ranks = [order.index(s) for s, _, _ in one + two]
    assert ranks == sorted(ranks)
    assert 'rel="next"' in first.body and 'rel="prev"' in second.body


def test_a_findings_lifecycle_shows_what_the_watcher_recorded(dashboard: DashboardServer, store: FindingStore) -> None:
    number = finding_id(store, WATCHED, "WL-001", "api")
    body = get(dashboard.url, f"/findings/{number}").body
    lifecycle = body[body.index('id="lifecycle"') :]
    assert re.findall(r'<td class="change">(\w+)</td>', lifecycle) == ["opened", "resolved"]
    assert "— → open" in lifecycle and "open → resolved" in lifecycle
    assert '<dd class="state-resolved" id="state">resolved</dd>' in body


def test_the_rbac_explorer_answers_who_can_with_the_binding(dashboard: DashboardServer) -> None:
    body = get(dashboard.url, "/rbac", cluster=WATCHED, verb="get", resource="secrets", namespace="shop").body
    answer = body[body.index('id="answer"') :]
    cells = re.findall(r"<tr>((?:<td>[^<]*</td>)+)</tr>", answer)
    subjects = sorted(tuple(re.findall(r"<td>([^<]*)</td>", row))[:2] for row in cells)
    assert subjects == [("ServiceAccount", "deployer"), ("User", "alice")]
    assert "RoleBinding/shop/read-secrets" in answer and "Role/shop/secret-reader" in answer
    denied = get(dashboard.url, "/rbac", cluster=WATCHED, verb="delete", resource="secrets", namespace="shop").body
    assert 'id="answer-none"' in denied


def test_attack_paths_and_exceptions_pages(dashboard: DashboardServer) -> None:
    paths = get(dashboard.url, "/paths", cluster=SCANNED)
    assert paths.status == 200 and "entry points" in paths.body
    body = get(dashboard.url, "/exceptions").body
    table = body[body.index('id="exceptions"') :]
    assert table.count("<tr class=") == 1
    assert "in 10 days" in table and 'class="expiring"' in table
    assert "vendor agent needs it" in table


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"severity": "urgent"}, "severity must be one of"),
        ({"cluster": "nowhere"}, "no cluster named"),
        ({"page": "two"}, "page must be a whole number"),
        ({"page": "0"}, "page must be between"),
        ({"rule": "XX-999"}, "no rule"),
        ({"namespace": "<b>"}, "namespace is not something"),
        ({"area": "everything"}, "area must be one of"),
    ],
)
def test_a_bad_parameter_is_a_400_that_says_which(
    dashboard: DashboardServer, params: dict[str, str], says: str
) -> None:
    reply = get(dashboard.url, "/findings", **params)
    assert reply.status == 400
    assert says in reply.body


def test_no_such_finding_is_a_404(dashboard: DashboardServer) -> None:
    assert get(dashboard.url, "/findings/99999999").status == 404


def test_hostile_names_render_as_inert_text(dashboard: DashboardServer, store: FindingStore) -> None:
    number = finding_id(store, SCANNED, "WL-001", HOSTILE)
    pages = [
        get(dashboard.url, "/findings", cluster=SCANNED, rule="WL-001").body,
        get(dashboard.url, f"/findings/{number}").body,
        get(dashboard.url, "/rbac", cluster=SCANNED, verb="get", resource="secrets", namespace="shop").body,
        get(dashboard.url, "/exceptions").body,
    ]
    shown = str(visible(HOSTILE)).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")
    for body in pages:
        assert "<script" not in body and "<img" not in body
        assert "\x1b" not in body and "\u202e" not in body
        assert shown in body


def test_the_bundled_assets_are_served(dashboard: DashboardServer) -> None:
    reply = get(dashboard.url, "/static/style.css")
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/css")
    assert "http" not in reply.body.replace("https://", "")  # nothing fetched from elsewhere


def test_a_user_policys_rule_can_be_filtered(tmp_path: Path) -> None:
    """POL-<name> rules come from users' policy files, not the registry: the filter takes them."""
    ref = ResourceRef("apps/v1", "Deployment", "shop", "web")
    rule = "POL-require-team-label"
    finding_ = Finding(
        rule, Status.FAIL, Severity.MEDIUM, ref, "no team label", Location("cluster"), fingerprint(rule, ref, None, "")
    )
    result = ScanResult(rules=[], findings=[finding_])
    with FindingStore.open(f"sqlite:///{tmp_path / 'h.db'}") as store:
        store.record_scan("dev", result, dt.datetime.now(dt.UTC))
        with DashboardServer(store) as server:
            assert [r for _, _, r in rows(get(server.url, "/findings", rule=rule).body)] == [rule]
            assert rows(get(server.url, "/findings", rule=rule, area="rbac").body) == []
            assert get(server.url, "/findings", rule="POL-<x>").status == 400
            page = get(server.url, f"/findings/{rows(get(server.url, '/findings').body)[0][1]}")
            assert page.status == 200 and "no team label" in page.body
