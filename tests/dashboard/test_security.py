"""The page's own protection: headers on every response, read-only, the Host guard, token and
proxy-header authentication, the sign-in form's CSRF token, and no Secret value anywhere."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator

import pytest

from stockade.dashboard.app import DashboardSettings
from stockade.dashboard.security import CSP, CSRF_COOKIE, SESSION_COOKIE, Access, host_of
from stockade.dashboard.server import DashboardServer, is_loopback
from stockade.store import FindingStore
from tests.dashboard.data import HOSTILE, LITERAL_PASSWORD, SCANNED, SECRET_VALUE, WATCHED
from tests.dashboard.http import Reply, call, get

TOKEN = "t0ken-for-the-dashboard-tests"


@pytest.fixture(scope="module")
def guarded(store: FindingStore) -> Iterator[DashboardServer]:
    with DashboardServer(store, DashboardSettings(Access(token=TOKEN))) as server:
        yield server


@pytest.fixture(scope="module")
def proxied(store: FindingStore) -> Iterator[DashboardServer]:
    with DashboardServer(store, DashboardSettings(Access(user_header="X-Forwarded-Email"))) as server:
        yield server


def assert_guarded(reply: Reply) -> None:
    assert reply.headers["content-security-policy"] == CSP
    assert "script-src 'self'" in CSP and "'unsafe-inline'" not in CSP and "default-src 'none'" in CSP
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["x-frame-options"] == "DENY"
    assert reply.headers["referrer-policy"] == "no-referrer"
    assert reply.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "path",
    ["/", "/findings", "/findings?severity=urgent", "/rbac", "/paths", "/exceptions", "/static/style.css", "/nowhere"],
)
def test_every_response_carries_the_security_headers(dashboard: DashboardServer, path: str) -> None:
    assert_guarded(call(dashboard.url, path))


def test_pages_hold_no_inline_script_or_style(dashboard: DashboardServer) -> None:
    for path in ("/", "/findings", "/rbac", "/paths", "/exceptions"):
        body = call(dashboard.url, path).body
        assert "<script" not in body and "<style" not in body and " style=" not in body and " on" + "click" not in body
        assert "http://" not in body and "https://" not in body  # nothing loaded from elsewhere: works offline


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_the_dashboard_is_read_only(dashboard: DashboardServer, method: str) -> None:
    reply = call(dashboard.url, "/findings", method=method, body="state=resolved")
    assert reply.status == 405 and reply.headers["allow"] == "GET, HEAD"
    assert_guarded(reply)


def test_a_foreign_host_header_is_refused(dashboard: DashboardServer) -> None:
    """A page some other site's DNS points at loopback (DNS rebinding) cannot read it."""
    refused = call(dashboard.url, "/", headers={"Host": "attacker.example"})
    assert refused.status == 400 and SCANNED not in refused.body
    assert_guarded(refused)
    assert call(dashboard.url, "/", headers={"Host": "localhost:8600"}).status == 200
    assert call(dashboard.url, "/", headers={"Host": "[::1]:8600"}).status == 200
    assert call(dashboard.url, "/", headers={"Host": "127.0.0.1"}).status == 200
    assert call(dashboard.url, "/", headers={"Host": "[::2]:8600"}).status == 400
    assert call(dashboard.url, "/", headers={"Host": "127.0.0.1.attacker.example"}).status == 400


def test_host_headers_are_read_as_names() -> None:
    assert host_of("LocalHost:8600") == "localhost" and host_of("[::1]:8600") == "::1" and host_of("[::1]") == "::1"
    assert host_of("10.0.0.5") == "10.0.0.5" and host_of("kspm.example.com:443") == "kspm.example.com"


def test_loopback_is_told_apart() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("[::1]") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.0.0.5") and not is_loopback("dashboard.example")


def test_without_the_token_a_browser_is_sent_to_sign_in(guarded: DashboardServer) -> None:
    reply = call(guarded.url, "/findings")
    assert reply.status == 303 and reply.headers["location"] == "/login"
    assert SCANNED not in reply.body
    assert call(guarded.url, "/findings", headers={"Authorization": "Bearer wrong"}).status == 303
    assert call(guarded.url, "/findings", method="HEAD").status == 303
    assert call(guarded.url, "/healthz").status == 200


def test_the_bearer_token_opens_every_page(guarded: DashboardServer) -> None:
    reply = call(guarded.url, "/findings", headers={"Authorization": f"Bearer {TOKEN}"})
    assert reply.status == 200 and SCANNED in reply.body


def _cookie(reply: Reply, name: str) -> str:
    for header in reply.cookies:
        found = re.match(rf"{name}=([^;]*)", header)
        if found:
            return found.group(1)
    raise AssertionError(f"no {name} cookie in {reply.cookies}")


def test_signing_in_needs_the_forms_csrf_token_and_sets_a_strict_session_cookie(guarded: DashboardServer) -> None:
    form = call(guarded.url, "/login")
    assert form.status == 200
    csrf = _cookie(form, CSRF_COOKIE)
    field = re.search(r'name="csrf" value="([^"]+)"', form.body)
    assert field is not None and field.group(1) == csrf
    jar = {"Cookie": f"{CSRF_COOKIE}={csrf}"}
    # A cross-site form post carries neither the cookie nor the field's value.
    forged = call(guarded.url, "/login", method="POST", body=f"csrf=guess&token={TOKEN}", headers=jar)
    assert forged.status == 403
    no_cookie = call(guarded.url, "/login", method="POST", body=f"csrf={csrf}&token={TOKEN}")
    assert no_cookie.status == 403
    wrong = call(guarded.url, "/login", method="POST", body=f"csrf={csrf}&token=nope", headers=jar)
    assert wrong.status == 401 and "not the dashboard" in wrong.body
    right = call(guarded.url, "/login", method="POST", body=f"csrf={csrf}&token={TOKEN}", headers=jar)
    assert right.status == 303 and right.headers["location"] == "/"
    session_header = next(h for h in right.cookies if h.startswith(SESSION_COOKIE))
    assert "HttpOnly" in session_header and "SameSite=strict" in session_header
    session = _cookie(right, SESSION_COOKIE)
    assert TOKEN not in session
    opened = call(guarded.url, "/exceptions", headers={"Cookie": f"{SESSION_COOKIE}={session}"})
    assert opened.status == 200 and "vendor agent needs it" in opened.body
    assert call(guarded.url, "/exceptions", headers={"Cookie": f"{SESSION_COOKIE}=x{session[1:]}"}).status == 303


def test_an_oversized_sign_in_form_is_refused(guarded: DashboardServer) -> None:
    assert call(guarded.url, "/login", method="POST", body="token=" + "a" * 10_000).status == 413


def test_a_proxy_header_is_required_and_shown_escaped(proxied: DashboardServer) -> None:
    assert call(proxied.url, "/").status == 401
    assert call(proxied.url, "/", headers={"X-Forwarded-Email": "  "}).status == 401
    reply = call(proxied.url, "/", headers={"X-Forwarded-Email": "<b>mallory</b>@example.com"})
    assert reply.status == 200
    assert '<span class="user">&lt;b&gt;mallory&lt;/b&gt;@example.com</span>' in reply.body


def _every_page(base: str, store: FindingStore) -> Iterator[str]:
    for cluster in (WATCHED, SCANNED):
        yield get(base, "/", cluster=cluster).body
        yield get(base, "/paths", cluster=cluster).body
        yield get(base, "/rbac", cluster=cluster, verb="get", resource="secrets", namespace="shop").body
        pages = 1
        page = 1
        while page <= pages:
            body = get(base, "/findings", cluster=cluster, state="any", page=str(page)).body
            found = re.search(r"page \d+ of (\d+)", body)
            pages = int(found.group(1)) if found else 1
            yield body
            for number in re.findall(r'href="/findings/(\d+)"', body):
                yield get(base, f"/findings/{number}").body
            page += 1
    yield get(base, "/exceptions").body


def test_no_secret_value_appears_on_any_page(dashboard: DashboardServer, store: FindingStore) -> None:
    encoded = base64.b64encode(SECRET_VALUE.encode()).decode()
    seen = 0
    for body in _every_page(dashboard.url, store):
        seen += 1
        assert SECRET_VALUE not in body and encoded not in body and LITERAL_PASSWORD not in body
    assert seen > 20
    # The finding about the literal password is there: the key is named, the value is not.
    leaky = get(dashboard.url, "/findings", cluster=SCANNED, rule="SC-001").body
    assert "DB_PASSWORD" in leaky or "leaky" in leaky


def test_hostile_subject_names_in_the_rbac_answer_are_inert(dashboard: DashboardServer) -> None:
    body = get(dashboard.url, "/rbac", cluster=SCANNED, verb="get", resource="secrets", namespace="shop").body
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in body
    assert "<script" not in body and HOSTILE not in body
