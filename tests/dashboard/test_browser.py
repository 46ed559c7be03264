"""The dashboard in a real browser: Debian's chromium driven by Playwright. Pages load with no
script error and no Content-Security-Policy violation, filters work, the RBAC explorer answers,
a finding's lifecycle shows what the watcher recorded, hostile names stay text. Screenshots go to
``test-artifacts/dashboard/`` (or ``$STOCKADE_ARTIFACTS/dashboard``)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, sync_playwright

from stockade.dashboard.server import DashboardServer
from tests.dashboard.data import SCANNED, WATCHED

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("STOCKADE_ARTIFACTS", ROOT / "test-artifacts")) / "dashboard"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"]

# One engine is enough in the browser (the HTTP tests run both): the multi-cluster PostgreSQL.
pytestmark = pytest.mark.parametrize("recorded", ["postgresql"], indirect=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install chromium` (.ci/run installs it)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        yield launched
        launched.close()


class Watched:
    """A page with every console error, page error and dialog it raised kept."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.problems: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("dialog", self._dialog)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.problems.append(f"console {message.type}: {message.text}")

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
def page(browser: Browser) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    opened = Watched(context.new_page())
    yield opened
    context.close()
    assert opened.problems == [], opened.problems  # a CSP violation is a console error
    assert opened.dialogs == []


def test_every_page_loads_from_the_navigation(dashboard: DashboardServer, page: Watched) -> None:
    page.page.goto(f"{dashboard.url}/?cluster={SCANNED}")
    assert page.page.locator("#scorecard tbody tr").count() == 14
    assert page.page.locator("svg#trend polyline").is_visible()
    page.shot("overview")
    for link, heading, name in [
        ("Findings", "Findings", "findings"),
        ("RBAC", "Who can…", "rbac"),
        ("Attack paths", f"Attack paths: {SCANNED}", "paths"),
        ("Exceptions", f"Exceptions: {SCANNED}", "exceptions"),
        ("Overview", "Posture overview", "overview-again"),
    ]:
        page.page.get_by_role("link", name=link, exact=True).click()
        assert page.page.locator("h1").inner_text() == heading
        page.shot(name)


def test_the_cluster_selector_switches_the_overview(dashboard: DashboardServer, page: Watched) -> None:
    page.page.goto(f"{dashboard.url}/")
    page.page.select_option("#cluster-select", WATCHED)
    page.page.get_by_role("button", name="Show").click()
    assert f"cluster={WATCHED}" in page.page.url
    assert page.page.locator("tr.chosen td a").first.inner_text() == WATCHED


def test_filters_narrow_the_findings(dashboard: DashboardServer, page: Watched) -> None:
    page.page.goto(f"{dashboard.url}/findings")
    everything = int(re.findall(r"\d+", page.page.locator("#count").inner_text())[0])
    form = page.page.locator("#filters")
    form.locator("select[name=cluster]").select_option(SCANNED)
    form.locator("select[name=severity]").select_option("critical")
    form.locator("input[name=namespace]").fill("shop")
    page.page.locator("#apply").click()
    assert "severity=critical" in page.page.url and "namespace=shop" in page.page.url
    severities = page.page.locator("#findings tbody td:first-child").all_inner_texts()
    shown = int(re.findall(r"\d+", page.page.locator("#count").inner_text())[0])
    assert severities and set(severities) == {"critical"} and len(severities) == shown < everything
    assert set(page.page.locator("#findings tbody td:nth-child(4)").all_inner_texts()) == {SCANNED}
    page.shot("findings-filtered")
    form = page.page.locator("#filters")
    form.locator("select[name=area]").select_option("rbac")
    form.locator("select[name=severity]").select_option("")
    page.page.locator("#apply").click()
    rules = page.page.locator("#findings tbody td:nth-child(2)").all_inner_texts()
    assert rules and all(rule.startswith("RB-") for rule in rules)


def test_the_rbac_explorer_answers_who_can_read_secrets(dashboard: DashboardServer, page: Watched) -> None:
    page.page.goto(f"{dashboard.url}/rbac?cluster={WATCHED}")
    form = page.page.locator("#who-can")
    form.locator("input[name=verb]").fill("get")
    form.locator("input[name=resource]").fill("secrets")
    form.locator("input[name=namespace]").fill("shop")
    page.page.locator("#ask").click()
    assert page.page.locator("#question").inner_text().startswith("Who can get secrets")
    rows = [r.split("\t")[:2] for r in page.page.locator("#answer tbody tr").all_inner_texts()]
    assert sorted(rows) == [["ServiceAccount", "deployer"], ["User", "alice"]]
    page.shot("rbac-who-can")


def test_a_findings_lifecycle_shows_the_watchers_transition(dashboard: DashboardServer, page: Watched) -> None:
    page.page.goto(f"{dashboard.url}/findings?cluster={WATCHED}&state=resolved")
    page.page.locator("#findings tbody a").first.click()
    assert page.page.locator("#state").inner_text() == "resolved"
    changes = page.page.locator("#lifecycle td.change").all_inner_texts()
    assert changes == ["opened", "resolved"]
    page.shot("finding-lifecycle")


def test_hostile_names_are_shown_not_run(dashboard: DashboardServer, page: Watched) -> None:
    page.page.goto(f"{dashboard.url}/findings?cluster={SCANNED}&rule=WL-001&state=any")
    text = page.page.locator("#findings").inner_text()
    assert '<script>alert("pwned")</script><img src=x onerror=alert(2)>\\x1b[31m\\u202eevil' in text
    assert page.page.locator("script").count() == 0 and page.page.locator("main img").count() == 0
    page.shot("hostile-findings")
    page.page.goto(f"{dashboard.url}/rbac?cluster={SCANNED}&verb=get&resource=secrets&namespace=shop")
    assert "<script>" in page.page.locator("#answer").inner_text()
    assert page.page.locator("script").count() == 0
    page.shot("hostile-rbac")
