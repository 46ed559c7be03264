"""Fixtures: fake API servers and official-client ApiClients pointed at them (all closed after)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from stockade.testing import FakeApiServer

MakeServer = Callable[..., FakeApiServer]
MakeClient = Callable[..., client.ApiClient]


@pytest.fixture
def make_server() -> Iterator[MakeServer]:
    servers: list[FakeApiServer] = []

    def make(objects: Iterable[Mapping[str, Any]] = (), **options: Any) -> FakeApiServer:
        server = FakeApiServer(objects, **options).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
        assert server.errors == []


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[MakeClient]:
    clients: list[client.ApiClient] = []

    def make(server: FakeApiServer, *, retries: int | None = None, **kubeconfig_options: Any) -> client.ApiClient:
        """A client from a kubeconfig the server writes; ``retries`` 0 turns off urllib3's own retries."""
        path = server.kubeconfig(tmp_path / f"kubeconfig-{len(clients)}", **kubeconfig_options)
        configuration = client.Configuration()
        configuration.retries = retries
        api = config.new_client_from_config(
            config_file=str(path), persist_config=False, client_configuration=configuration
        )
        clients.append(api)
        return api

    yield make
    for api in clients:
        api.close()
