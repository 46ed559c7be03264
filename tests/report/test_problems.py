"""The stderr lines every command prints for unreadable and skipped inputs."""

from __future__ import annotations

from stockade.model.finding import InputProblem, SkippedInput
from stockade.report.problems import render_problems


def test_location_object_and_message_on_one_line() -> None:
    text = render_problems(
        [
            InputProblem("k8s/app.yaml", "YAML syntax error", line=7, kind="parse"),
            InputProblem("cluster", 'cannot list secrets (missing RBAC: list on secrets in API group "")'),
            InputProblem("k8s/app.yaml", "spec.template is not a mapping", line=12, object="Deployment/shop/web"),
        ],
        [
            SkippedInput("compose.yml", "no apiVersion (not a Kubernetes object)", line=1),
            SkippedInput("notes/", "empty"),
        ],
    )
    assert text.splitlines() == [
        "stockade: warning: k8s/app.yaml:7: YAML syntax error",
        'stockade: warning: cluster: cannot list secrets (missing RBAC: list on secrets in API group "")',
        "stockade: warning: k8s/app.yaml:12: Deployment/shop/web: spec.template is not a mapping",
        "stockade: note: skipped compose.yml:1: no apiVersion (not a Kubernetes object)",
        "stockade: note: skipped notes/: empty",
    ]


def test_text_from_inputs_cannot_add_lines_or_drive_the_terminal() -> None:
    text = render_problems([InputProblem("evil\x1b]0;owned\x07.yaml", "bad\nstockade: note: all clear\x1b[2J")])
    assert text == "stockade: warning: evil\\x1b]0;owned\\x07.yaml: bad stockade: note: all clear\\x1b[2J\n"


def test_nothing_to_say_is_nothing() -> None:
    assert render_problems([], []) == ""
