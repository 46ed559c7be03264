"""Subjects as people type them on the command line."""

from __future__ import annotations

import pytest

from stockade.errors import RbacQueryError
from stockade.rbac import Subject
from stockade.rbac.resources import parse_subject


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("user:jane@example.com", Subject.user("jane@example.com")),
        ("u:jane", Subject.user("jane")),
        ("User:system:kube-scheduler", Subject.user("system:kube-scheduler")),
        ("group:system:masters", Subject.group("system:masters")),
        ("g:devs", Subject.group("devs")),
        ("sa:ci:deployer", Subject.service_account("ci", "deployer")),
        ("serviceaccount:ci:deployer", Subject.service_account("ci", "deployer")),
        # A ServiceAccount's username is that ServiceAccount.
        ("user:system:serviceaccount:ci:deployer", Subject.service_account("ci", "deployer")),
        ("user:system:serviceaccount:ci", Subject.user("system:serviceaccount:ci")),
    ],
)
def test_subject_forms(text: str, expected: Subject) -> None:
    assert parse_subject(text) == expected


@pytest.mark.parametrize("text", ["jane", "user:", "group:", "sa:ci", "sa:ci:a:b", "robot:x", ""])
def test_unreadable_subjects_name_the_forms(text: str) -> None:
    with pytest.raises(RbacQueryError, match=r"use user:NAME, group:NAME or sa:NAMESPACE:NAME"):
        parse_subject(text)


def test_the_command_line_help_names_the_same_forms() -> None:
    from stockade.cli.rbac_cmd import SUBJECT_FORMS as HELP
    from stockade.rbac.resources import SUBJECT_FORMS

    assert HELP == SUBJECT_FORMS
