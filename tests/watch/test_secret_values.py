"""A Secret value planted in the cluster appears in no event, store row, metric or log line of a
watcher that reads Secrets and pods that use them."""

from __future__ import annotations

import base64
import logging
import urllib.request
import zlib
from pathlib import Path

import pytest
import sqlalchemy as sa

from stockade.testing import FakeApiServer
from tests.watch.support import privileged_pod, running, wait_until

PLANTED = "planted-value-Zq8x-do-not-leak"
ENCODED = base64.b64encode(PLANTED.encode()).decode()


def _leaks(text: str) -> bool:
    return PLANTED in text or ENCODED in text


def _store_text(url: str) -> str:
    """Every row of every table, object states decompressed."""
    engine = sa.create_engine(url)
    parts: list[str] = []
    try:
        with engine.connect() as conn:
            for table in sa.inspect(conn).get_table_names():
                for row in conn.execute(sa.text(f"SELECT * FROM {table}")):
                    for value in row:
                        if isinstance(value, bytes):
                            value = zlib.decompress(value).decode() if table == "object_states" else value.hex()
                        parts.append(str(value))
    finally:
        engine.dispose()
    return "\n".join(parts)


def test_planted_secret_values_go_nowhere(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "db",
            "namespace": "shop",
            "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": f'{{"data":{{"password":"{ENCODED}"}}}}'
            },
        },
        "type": "Opaque",
        "data": {"password": ENCODED},
    }
    pod = privileged_pod("app", "shop")
    pod["spec"]["containers"][0]["env"] = [
        {"name": "DB_PASSWORD", "value": PLANTED},  # a literal where a secretKeyRef belongs (SC rules)
        {"name": "DB_REF", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
    ]
    events = tmp_path / "events.jsonl"
    store = f"sqlite:///{tmp_path / 'history.db'}"
    with FakeApiServer([secret, pod], bookmark_interval=0.2) as server:
        with running(
            server,
            tmp_path,
            store,
            kinds=["pods", "secrets", "namespaces"],
            rules=["all"],
            events=str(events),
            metrics_address="127.0.0.1:0",
        ) as (service, sink):
            wait_until(lambda: len(sink.changes()) >= 2, what="findings")
            changed = dict(secret, data={"password": base64.b64encode(b"second-" + PLANTED.encode()).decode()})
            server.update(changed)
            server.delete("v1", "Secret", "db", "shop")
            wait_until(lambda: service.watcher.status.buffered == 0 and service.watcher.status.written >= 2)
            metrics_url = next(c for c in service._closers if hasattr(c, "server")).server.url
            with urllib.request.urlopen(metrics_url + "/metrics", timeout=5) as answer:
                metrics = answer.read().decode()
        rules = {e.rule_id for e in sink.events}
    assert any(rule.startswith("SC-") for rule in rules), rules  # the secret rules saw the literal
    assert "stockade_findings" in metrics
    for what, text in (
        ("events", events.read_text()),
        ("sink", repr(sink.events)),
        ("store", _store_text(store)),
        ("metrics", metrics),
        ("log", caplog.text),
    ):
        where = text.find(PLANTED) if PLANTED in text else text.find(ENCODED)
        assert not _leaks(text), (what, text[max(0, where - 300) : where + 50])
        assert "second-" + PLANTED not in text, what
