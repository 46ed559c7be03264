"""The sinks against real receivers: a JSON-lines file, stdout, and a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import io
import logging
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from stockade.model.finding import Status
from stockade.store.lifecycle import Change, State
from stockade.watch.metrics import WatchMetrics
from stockade.watch.sinks import (
    SLACK_LINES,
    JsonLinesSink,
    SinkStats,
    WebhookSink,
    WebhookTarget,
    slack_message,
)
from tests.helpers import scan_objects
from tests.watch.eventdata import event, events, events_from_findings
from tests.watch.receiver import Receiver

SECRET_URL_PART = "T000/B000/XXXXsecrettokenXXXX"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


def _wait(condition: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def _fast(receiver: Receiver, **options: object) -> WebhookSink:
    """A webhook sink with short backoff (the delays are what the tests measure, not wait for)."""
    settings: dict[str, object] = {"format": "json", "backoff": 0.05, "backoff_max": 0.2, "timeout": 2.0}
    settings.update(options)
    return WebhookSink(receiver.url(f"/services/{SECRET_URL_PART}?token=also-secret"), **settings)  # type: ignore[arg-type]


# -- JSON lines ---------------------------------------------------------------------------------


def test_json_lines_file_has_one_event_per_line_appended_and_private(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    first = JsonLinesSink(path)
    first.send(events(3))
    first.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = JsonLinesSink(str(path))  # appends, never truncates
    second.send([event(7, change=Change.RESOLVED, from_state=State.OPEN, to_state=State.RESOLVED)])
    second.close()
    lines = path.read_bytes().splitlines()
    assert [orjson.loads(line) for line in lines] == [e.to_json() for e in events(3)] + [
        event(7, change=Change.RESOLVED, from_state=State.OPEN, to_state=State.RESOLVED).to_json()
    ]
    assert orjson.loads(lines[3])["change"] == "resolved"
    assert orjson.loads(lines[0])["schema"] == "stockade.event/v1"
    assert second.stats == SinkStats(sent=1) and first.stats == SinkStats(sent=3)


def test_json_lines_keeps_an_existing_files_mode(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"")
    path.chmod(0o640)
    sink = JsonLinesSink(path)
    sink.send(events(1))
    sink.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert len(path.read_bytes().splitlines()) == 1


def test_json_lines_refuses_a_symbolic_link_to_a_file(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep\n")
    link = tmp_path / "events.jsonl"
    link.symlink_to(victim)
    with pytest.raises(OSError, match="cannot open the events file"):
        JsonLinesSink(link)
    assert victim.read_text() == "keep\n"


def test_dash_is_standard_output(capsys: pytest.CaptureFixture[str]) -> None:
    sink = JsonLinesSink("-")
    sink.send(events(2))
    sink.close()
    out = capsys.readouterr().out.splitlines()
    assert [orjson.loads(line)["fingerprint"] for line in out] == ["fp-00000", "fp-00001"]


def test_each_batch_is_flushed(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    sink = JsonLinesSink(path)
    sink.send(events(2))
    assert len(path.read_bytes().splitlines()) == 2  # visible to a tail -f before close
    sink.close()


def test_a_closed_stream_counts_events_as_failed(caplog: pytest.LogCaptureFixture) -> None:
    stream = io.BytesIO()
    metrics = WatchMetrics()
    sink = JsonLinesSink(stream, observer=metrics)
    stream.close()
    with caplog.at_level(logging.WARNING, "stockade.watch.sinks"):
        sink.send(events(2))
        sink.send(events(3))
    assert sink.stats == SinkStats(failed=5)
    assert metrics.registry.get_sample_value("stockade_sink_failed_total", {"sink": "jsonl"}) == 5
    assert len([r for r in caplog.records if "cannot write" in r.getMessage()]) == 1


# -- webhook: URL checks --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "file:///etc/passwd",
        "example.com/hook",
        "http:///no-host",
        "https://user:pass@example.com/hook",
        "https://example.com/ho ok",
        "https://example.com/hook\r\nX-Injected: 1",
        "http://example.com:99999/",
    ],
)
def test_only_plain_http_and_https_urls_are_accepted(url: str) -> None:
    with pytest.raises(ValueError, match="webhook URL"):
        WebhookTarget.parse(url)


def test_the_logged_form_of_a_url_is_scheme_and_host_only() -> None:
    target = WebhookTarget.parse(f"https://hooks.slack.com/services/{SECRET_URL_PART}?x=1")
    assert str(target) == "https://hooks.slack.com"
    assert target.request_path == f"/services/{SECRET_URL_PART}?x=1"
    assert str(WebhookTarget.parse("http://[::1]:8080/a")) == "http://[::1]:8080"


def test_header_injection_is_refused() -> None:
    with pytest.raises(ValueError, match="header"):
        WebhookSink("http://127.0.0.1:1/", headers={"X-Token": "a\r\nX-Evil: 1"})


# -- webhook: delivery ---------------------------------------------------------------------------


def test_raw_json_delivery_in_batches(receiver: Receiver) -> None:
    sink = _fast(receiver, batch_size=10, headers={"Authorization": "Bearer t0k"})
    sink.send(events(25))
    sink.close(timeout=10)
    assert sink.stats == SinkStats(sent=25)
    assert [e["fingerprint"] for e in receiver.events()] == [f"fp-{n:05d}" for n in range(25)]
    assert all(len(r.json["events"]) <= 10 for r in receiver.received)
    first = receiver.received[0]
    assert first.path == f"/services/{SECRET_URL_PART}?token=also-secret"
    assert first.headers["Content-Type"] == "application/json"
    assert first.headers["Authorization"] == "Bearer t0k"
    assert first.headers["User-Agent"].startswith("stockade/")


def test_slack_delivery_is_readable_and_within_slack_limits(receiver: Receiver) -> None:
    sink = _fast(receiver, format="slack", batch_size=100)
    sink.send(events(45))
    sink.close(timeout=10)
    assert sink.stats == SinkStats(sent=45)
    messages = [r.json for r in receiver.received]
    assert sum(int(m["text"].split()[1]) for m in messages) == 45  # "Stockade: N finding changes …"
    message = messages[0]
    assert message["text"].startswith("Stockade: ")
    assert len(message["blocks"]) <= 50
    lines = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"][1:]
    assert len(lines) <= SLACK_LINES
    assert lines[0] == ("OPENED high WL-001 Deployment/shop/web-0 (container app): container app of web-0 runs as root")
    if len(messages) == 1:
        assert message["blocks"][-1]["elements"][0]["text"] == "…and 25 more"


def test_slack_message_escapes_markup_and_clips_long_messages() -> None:
    loud = event(1, message="<!channel> see <https://evil.example|here> & " + "x" * 5000)
    message = slack_message([loud])
    line = message["blocks"][1]["text"]["text"]  # type: ignore[index]
    assert "<!channel>" not in line and "&lt;!channel&gt;" in line and "&amp;" in line
    assert len(line) <= 3000
    assert len(message["text"]) <= 3000  # type: ignore[arg-type]
    many = slack_message(events(120))
    assert len(many["blocks"]) == 1 + SLACK_LINES + 1  # type: ignore[arg-type]
    assert many["blocks"][-1]["elements"][0]["text"] == "…and 100 more"  # type: ignore[index]
    assert many["text"].startswith("Stockade: 120 finding changes in prod-eu (120 opened)")  # type: ignore[union-attr]


def test_server_errors_are_retried_until_delivered(receiver: Receiver) -> None:
    receiver.fail(3, status=503)
    sink = _fast(receiver)
    sink.send(events(4))
    sink.close(timeout=10)
    assert sink.stats == SinkStats(sent=4)
    assert len(receiver.attempts) == 4
    assert len(receiver.received) == 1


def test_backoff_grows_between_retries(receiver: Receiver) -> None:
    receiver.fail(3, status=500)
    sink = _fast(receiver, backoff=0.1, backoff_max=5.0)
    sink.send(events(1))
    sink.close(timeout=10)
    gaps = [b - a for a, b in zip(receiver.attempts, receiver.attempts[1:], strict=False)]
    # Jitter keeps each wait within [half, all] of 0.1, 0.2, 0.4 s.
    assert [round(g, 2) >= low for g, low in zip(gaps, (0.05, 0.1, 0.2), strict=True)] == [True] * 3
    assert sum(gaps) < 2.0


def test_giving_up_after_max_attempts_counts_failed(receiver: Receiver, caplog: pytest.LogCaptureFixture) -> None:
    receiver.fail(10, status=502)
    metrics = WatchMetrics()
    sink = _fast(receiver, max_attempts=3, observer=metrics)
    with caplog.at_level(logging.WARNING, "stockade.watch.sinks"):
        sink.send(events(2))
        sink.close(timeout=10)
    assert len(receiver.attempts) == 3
    assert sink.stats == SinkStats(failed=2)
    assert metrics.registry.get_sample_value("stockade_sink_failed_total", {"sink": "webhook"}) == 2
    assert any("after 3 attempts (last: HTTP 502)" in r.getMessage() for r in caplog.records)


def test_429_waits_as_retry_after_says(receiver: Receiver) -> None:
    receiver.fail(1, status=429, retry_after="1")
    sink = _fast(receiver, backoff=0.01, backoff_max=0.01)
    sink.send(events(1))
    sink.close(timeout=10)
    assert sink.stats == SinkStats(sent=1)
    assert len(receiver.attempts) == 2
    assert receiver.attempts[1] - receiver.attempts[0] >= 0.95  # not the 0.01 s backoff


def test_other_4xx_are_not_retried_and_reported_once(receiver: Receiver, caplog: pytest.LogCaptureFixture) -> None:
    receiver.fail(2, status=404)
    sink = _fast(receiver, batch_size=1)
    with caplog.at_level(logging.WARNING, "stockade.watch.sinks"):
        sink.send(events(3))
        sink.close(timeout=10)
    assert len(receiver.attempts) == 3  # one try each; the third is delivered
    assert sink.stats == SinkStats(sent=1, failed=2)
    reports = [r.getMessage() for r in caplog.records if "HTTP 404" in r.getMessage()]
    assert reports == [f"webhook http://127.0.0.1:{receiver.port}: HTTP 404; 1 events not delivered (not retried)"]


def test_connection_errors_are_retried_until_the_receiver_is_back(receiver: Receiver) -> None:
    receiver.down()
    sink = _fast(receiver, max_attempts=50, backoff=0.05, backoff_max=0.1)
    sink.send(events(2))
    time.sleep(0.3)  # let a few connection attempts fail: the outage under test
    assert sink.stats == SinkStats()
    receiver.up()
    sink.close(timeout=10)
    assert sink.stats == SinkStats(sent=2)
    assert len(receiver.events()) == 2


def test_a_full_queue_drops_and_counts_and_warns_once_per_episode(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.slow(0.5)
    metrics = WatchMetrics()
    sink = _fast(receiver, queue_size=5, batch_size=1, observer=metrics)
    with caplog.at_level(logging.WARNING, "stockade.watch.sinks"):
        sink.send(events(1))
        receiver.wait_for(lambda r: len(r.attempts) == 1)  # the worker is busy with the first
        sink.send([event(n) for n in range(1, 9)])  # 5 fit in the queue, 3 do not
        sink.send([event(n) for n in range(9, 13)])  # still full: the same episode
        full = [r.getMessage() for r in caplog.records if "queue full" in r.getMessage()]
        assert full == [f"webhook queue full: 3 events dropped (http://127.0.0.1:{receiver.port})"]
        assert sink.stats.dropped == 7
        assert metrics.registry.get_sample_value("stockade_sink_dropped_total", {"sink": "webhook"}) == 7
        receiver.slow(0)
        _wait(lambda: sink.queued == 0)
        sink.send([event(20)])  # room again: the episode ends with its total
        sink.close(timeout=10)
    assert sink.stats == SinkStats(sent=7, dropped=7)
    assert any("room again: 7 events dropped in all" in r.getMessage() for r in caplog.records)
    assert [e["fingerprint"] for e in receiver.events()] == [f"fp-{n:05d}" for n in (0, 1, 2, 3, 4, 5, 20)]


def test_close_drains_the_queue_within_its_timeout(receiver: Receiver) -> None:
    receiver.slow(0.05)
    sink = _fast(receiver, batch_size=5)
    sink.send(events(40))
    started = time.monotonic()
    sink.close(timeout=10)
    assert time.monotonic() - started < 5
    assert sink.stats == SinkStats(sent=40)
    assert len(receiver.events()) == 40


def test_close_gives_up_at_its_timeout_and_counts_the_rest_dropped(receiver: Receiver) -> None:
    receiver.fail(1000, status=503)
    sink = _fast(receiver, batch_size=5, max_attempts=100, backoff=0.2, backoff_max=0.2)
    sink.send(events(20))
    started = time.monotonic()
    sink.close(timeout=0.5)
    assert time.monotonic() - started < 1.5
    _wait(lambda: sink.stats.dropped == 20)  # 15 queued, and the batch in its backoff
    assert sink.stats == SinkStats(dropped=20)
    sink.send(events(2))  # after close: counted, never queued
    assert sink.stats.dropped == 22


def test_https_verifies_certificates_against_the_system_or_a_given_ca(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    from stockade.testing.fake_apiserver import FakeApiServer

    with FakeApiServer(tls=True) as server:  # a real TLS server whose CA no system trusts
        url = server.url + f"/hook/{SECRET_URL_PART}"
        untrusted = WebhookSink(url, format="json", backoff=0.01, backoff_max=0.01)
        with caplog.at_level(logging.WARNING, "stockade.watch.sinks"):
            untrusted.send(events(1))
            untrusted.close(timeout=10)
        assert untrusted.stats == SinkStats(failed=1)
        assert any("certificate not trusted" in r.getMessage() for r in caplog.records)
        assert server.ca_pem is not None
        bundle = tmp_path / "ca.pem"
        bundle.write_bytes(server.ca_pem)
        trusted = WebhookSink(url, format="json", ca_bundle=bundle, backoff=0.01, backoff_max=0.01)
        caplog.clear()
        with caplog.at_level(logging.WARNING, "stockade.watch.sinks"):
            trusted.send(events(1))
            trusted.close(timeout=10)
    # The TLS handshake succeeded: the API server answered (it has no such path; not retried).
    messages = [r.getMessage() for r in caplog.records]
    assert trusted.stats == SinkStats(failed=1)
    assert any("HTTP 4" in m for m in messages) and not any("certificate" in m for m in messages)


def test_nothing_logged_holds_the_urls_path_or_query(receiver: Receiver, caplog: pytest.LogCaptureFixture) -> None:
    receiver.fail(1, status=400)
    with caplog.at_level(logging.DEBUG):
        sink = _fast(receiver, queue_size=1, max_attempts=2)
        sink.send(events(1))
        receiver.wait_for(lambda r: len(r.attempts) == 1)
        sink.send(events(5))  # overflow warning
        receiver.down()
        sink.send(events(1))
        sink.close(timeout=1)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "HTTP 400" in text and "queue full" in text
    assert SECRET_URL_PART not in text and "also-secret" not in text and "/services" not in text


# -- no Secret value anywhere ---------------------------------------------------------------------

PLANTED = "s3cr3t-Pl4nted-V4lue-9f8e7d6c5b4a"


def test_a_planted_secret_value_is_in_no_line_or_payload(receiver: Receiver, tmp_path: Path) -> None:
    import base64

    objects = [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "db", "namespace": "shop"},
            "data": {"password": base64.b64encode(PLANTED.encode()).decode()},
            "stringData": {"token": PLANTED},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "shop"},
            "data": {"DB_PASSWORD": PLANTED, "aws_secret_access_key": PLANTED},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "api", "namespace": "shop"},
            "spec": {
                "selector": {"matchLabels": {"app": "api"}},
                "template": {
                    "metadata": {"labels": {"app": "api"}},
                    "spec": {
                        "containers": [
                            {
                                "name": "api",
                                "image": "nginx",
                                "env": [
                                    {"name": "DB_PASSWORD", "value": PLANTED},
                                    {
                                        "name": "API_KEY",
                                        "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}},
                                    },
                                ],
                            }
                        ]
                    },
                },
            },
        },
    ]
    result = scan_objects(objects)
    failed = [f for f in result.findings if f.status is Status.FAIL]
    rules = {f.rule_id for f in failed}
    assert {"SC-001", "SC-002", "SC-003"} <= rules  # the planted value is what those rules judged
    planted_events = events_from_findings(failed)
    path = tmp_path / "events.jsonl"
    jsonl = JsonLinesSink(path)
    jsonl.send(planted_events)
    jsonl.close()
    raw_sink = _fast(receiver, format="json", batch_size=1000)
    slack_sink = _fast(receiver, format="slack", batch_size=1000)
    for sink in (raw_sink, slack_sink):
        sink.send(planted_events)
        sink.close(timeout=10)
        assert sink.stats == SinkStats(sent=len(planted_events))
    written = path.read_bytes()
    assert len(written.splitlines()) == len(planted_events)
    encoded = base64.b64encode(PLANTED.encode())
    for blob in [written, *(r.body for r in receiver.received)]:
        assert PLANTED.encode() not in blob
        assert encoded not in blob
        assert PLANTED[:12].encode() not in blob  # not even a prefix
    assert len(receiver.received) == 2
    assert os.fspath(path)  # the file was the real path written
