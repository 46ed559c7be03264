"""`stockade network reach|egress` end to end: formats, escaping, usage errors, unread policy kinds,
unreadable input, and the live cluster (fake API server, real client) giving the files' answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from stockade.cli.main import main
from stockade.testing import FakeApiServer

CLASSIC = Path(__file__).resolve().parents[1] / "data" / "network" / "classic.yaml"


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["network", *argv, "--no-progress"])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_matrix_table_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, table, _ = _run(["reach", str(CLASSIC)], capsys)
    assert code == 0
    rows = {line.split()[0]: line.split()[1:] for line in table.splitlines()[2:6]}
    # columns: billing locked monitoring shop
    assert rows["shop"] == ["4/6", "none", "all", "5/9"]
    assert rows["locked"] == ["none", "none", "all", "1/3"]
    code, out, _ = _run(["reach", str(CLASSIC), "-f", "json"], capsys)
    document = json.loads(out)
    targets = {t["to"]: t["sources"] for t in document["targets"]}
    assert targets["StatefulSet/shop/db"] == ["Deployment/shop/api"]
    assert targets["Deployment/monitoring/prometheus"] == {"any_except": ["Deployment/billing/worker"]}
    assert document["unreachable"] == ["Deployment/locked/vault"]


def test_who_reaches_and_what_is_reached(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["reach", str(CLASSIC), "--to", "shop/api", "--port", "metrics"], capsys)
    assert code == 0
    assert out.splitlines() == [
        "Who can reach Deployment/shop/api:",
        "  port 9100: 1 of 7 workloads",
        "    Deployment/monitoring/prometheus: allowed by NetworkPolicy/shop/api-callers ingress rule 2",
    ]
    code, out, _ = _run(["reach", str(CLASSIC), "--from", "worker", "-f", "json"], capsys)
    assert json.loads(out) == {"from": "Deployment/billing/worker", "reaches": []}
    code, out, _ = _run(["reach", str(CLASSIC), "--from", "web", "--to", "db", "-f", "json"], capsys)
    [verdict] = json.loads(out)["verdicts"]
    assert (verdict["port"], verdict["allowed"], verdict["egress"]["allowed"]) == ("5432", False, True)


def test_egress(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["egress", str(CLASSIC), "-f", "json"], capsys)
    assert code == 0
    by_workload = {w["workload"]: w["egress"] for w in json.loads(out)["workloads"]}
    worker = by_workload["Deployment/billing/worker"]
    assert [name for name, side in worker.items() if side["allowed"]] == ["internet"]
    code, out, _ = _run(["egress", str(CLASSIC), "--open-only"], capsys)
    assert out.splitlines()[-1] == (
        "Workloads that can connect to: internet 7 of 7; cloud metadata (169.254.169.254) 6 of 7; "
        "API server (10.0.0.1) 6 of 7"
    )


def test_policies_not_evaluated_make_answers_unknown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    extra = tmp_path / "cilium.yaml"
    extra.write_text(
        "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: lock-db}\n"
        "spec:\n  endpointSelector: {matchLabels: {'k8s:app': db}}\n"
        "  ingress: [{fromEndpoints: [{}], toPorts: [{ports: [{port: '5432'}], rules: {l7proto: pg}}]}]\n---\n"
        "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: odd}\n"
        "spec: {selector: \"app in {'web'}\"}\n"
    )
    code, out, _ = _run(["reach", str(CLASSIC), str(extra), "--from", "api", "--to", "db", "-f", "json"], capsys)
    assert code == 0
    [verdict] = json.loads(out)["verdicts"]
    # The Calico selector is not one Stockade reads: it may select anything.
    assert verdict["unknown"] == [
        "CiliumClusterwideNetworkPolicy/lock-db",
        "GlobalNetworkPolicy.projectcalico.org/odd",
    ]
    _, out, _ = _run(["reach", str(CLASSIC), str(extra)], capsys)
    assert (
        "2 policies are not evaluated (Calico, admin, Linkerd, Cilium with L7, deny or FQDN rules, or unreadable)"
        in out
    )


def test_dot_quotes_hostile_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hostile = tmp_path / "hostile.yaml"
    hostile.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: 'a\"] ; evil -> x [label=\"', namespace: shop}\n"
        "spec: {containers: [{name: c, image: i}]}\n"
    )
    code, out, _ = _run(["reach", str(hostile), "-f", "dot"], capsys)
    assert code == 0
    assert '"Pod/shop/a\\"] ; evil -> x [label=\\""' in out
    assert out.count('"any pod" -> ') == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["reach", str(CLASSIC), "--to", "dbx"], "--to 'dbx' is not a workload read (did you mean"),
        (["reach", str(CLASSIC), "--to", "db", "-f", "dot"], "-f dot draws the matrix"),
        (["reach", str(CLASSIC), "--limit", "0"], "--limit must be at least 1"),
    ],
)
def test_usage_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["network", *argv, "--no-progress"])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_ambiguous_names_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    twice = tmp_path / "twice.yaml"
    twice.write_text(
        "".join(
            f"---\napiVersion: v1\nkind: Pod\nmetadata: {{name: web, namespace: {ns}}}\n"
            "spec: {containers: [{name: c, image: i}]}\n"
            for ns in ("a", "b")
        )
    )
    with pytest.raises(SystemExit):
        main(["network", "reach", str(twice), "--to", "web", "--no-progress"])
    assert "--to 'web' names 2 workloads: Pod/a/web, Pod/b/web" in capsys.readouterr().err


def test_unreadable_input_is_named_and_the_rest_answered(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("kind: NetworkPolicy\nspec: [unclosed\n")
    code, out, err = _run(["reach", str(CLASSIC), str(broken), "--to", "db"], capsys)
    assert code == 3
    assert "broken.yaml" in err and "Traceback" not in err
    assert "Deployment/shop/api: allowed by" in out


def test_the_live_cluster_gives_the_same_answer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    objects = [d for d in yaml.safe_load_all(CLASSIC.read_text()) if d]
    _, from_files, _ = _run(["reach", str(CLASSIC), "-f", "json"], capsys)
    with FakeApiServer(objects, tls=True, token="t0ken") as server:
        kubeconfig = str(server.kubeconfig(tmp_path / "kubeconfig"))
        code, live, err = _run(["reach", "--kubeconfig", kubeconfig, "-f", "json"], capsys)
    assert code == 0, err
    assert json.loads(live) == json.loads(from_files)


def test_the_benchmark_runs() -> None:
    import re
    import subprocess
    import sys

    bench = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_network.py"
    done = subprocess.run(
        [sys.executable, str(bench), "--pods", "200"], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # 20 namespaces of 10 tiered workloads under default deny: the allowed pairs are known.
    assert re.search(
        r"\| 200 \| 20 \| 100 \| yes \| \*\*[\d.]+\*\* \| \d+ \| [\d.]+ \|( [\d.]+ \|){3} 636 \|", done.stdout
    ), done.stdout


def test_exposed_lists_entry_points_and_what_they_reach(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.vendored import vendored

    demo = vendored("corpus", "real-world", "microservices-demo")
    code, out, _ = _run(["exposed", str(demo), "-f", "json"], capsys)
    assert code == 0
    entries = {e["entry"]: e for e in json.loads(out)["entry_points"]}
    assert set(entries) == {"Service/default/frontend-external", "VirtualService/default/frontend-ingress"}
    [lb] = entries["Service/default/frontend-external"]["reaches"]
    assert lb == {
        "container": "Deployment/default/frontend#server",
        "how": "Service/default/frontend-external forwards port 8080",
        "fixes": ["NP-003"],
    }
    assert entries["VirtualService/default/frontend-ingress"]["why"] == (
        "Istio VirtualService bound to gateway frontend-gateway"
    )
    # No Service, Ingress, route or host-network pod: nothing to enter by.
    code, out, _ = _run(["exposed", str(CLASSIC)], capsys)
    assert out.splitlines()[-1] == "0 entry points reach 0 containers."


def test_a_policy_that_cannot_be_read_makes_answers_in_its_namespace_unknown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    odd = tmp_path / "odd.yaml"
    odd.write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: odd, namespace: shop}\n"
        "spec:\n  podSelector: {matchExpressions: [{key: app, operator: Bogus}]}\n  ingress: [{}]\n"
    )
    code, out, err = _run(
        ["reach", str(CLASSIC), str(odd), "--from", "billing/payments", "--to", "db", "-f", "json"], capsys
    )
    assert (code, "Traceback" in err) == (0, False)
    [verdict] = json.loads(out)["verdicts"]
    assert verdict["unknown"] == ["NetworkPolicy/shop/odd (unreadable)"]
    _, out, _ = _run(
        ["reach", str(CLASSIC), str(odd), "--from", "billing/payments", "--to", "prometheus", "-f", "json"], capsys
    )
    assert "unknown" not in json.loads(out)["verdicts"][0]
