"""Resource quantities are read with the API server's grammar and range, never guessed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stockade.model.quantity import QuantityError, parse_quantity


@pytest.mark.parametrize(
    ("value", "amount"),
    [
        ("100m", "0.1"),
        ("128Mi", "134217728"),
        ("1e3", "1000"),
        ("1E-3", "0.001"),
        (".5", "0.5"),
        ("5.", "5"),
        ("+1k", "1000"),
        ("-0", "0"),
        ("7Ei", str(7 * 1024**6)),
        ("9223372036854775807", "9223372036854775807"),
        (2, "2"),
        (0.25, "0.25"),
    ],
)
def test_valid_quantities(value: object, amount: str) -> None:
    assert parse_quantity(value) == Decimal(amount)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1e1000", "out of range"),
        ("9223372036854775808", "out of range"),
        ("8Ei", "out of range"),
        (float("inf"), "out of range"),
        pytest.param(10**5000, "out of range", id="5000-digit-int"),
        ("-1Zi", "not a quantity"),
        ("1Zi", "not a quantity"),
        ("-1", "negative"),
        (-3, "negative"),
        ("1e3m", "not a quantity"),
        ("1 ", "not a quantity"),
        ("", "not a quantity"),
        ("2e-999999999999", "not a quantity"),
        ("1" * 100, "not a quantity"),
        (float("nan"), "not a quantity"),
        (True, "not a quantity"),
        ([1], "not a quantity"),
    ],
)
def test_invalid_quantities(value: object, reason: str) -> None:
    with pytest.raises(QuantityError, match=reason):
        parse_quantity(value)
