"""Kubernetes resource quantities (``100m``, ``128Mi``, ``1e3``), read as strictly as the API server.

Grammar (k8s.io/apimachinery resource.Quantity): an optional sign, digits with an optional
decimal part, then one suffix: a binary one (Ki Mi Gi Ti Pi Ei), a decimal one (n u m "" k M G T
P E) or an exponent (``e``/``E`` and an integer). A resource request or limit must also be
non-negative and, in base units, no larger than 2^63-1.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Final

_QUANTITY: Final = re.compile(r"([+-]?)(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?")
_BINARY: Final = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL: Final = {"n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_MAX: Final = Decimal(2**63 - 1)
# Longer than any real quantity; the exponent of a longer one could make Decimal work hard.
_MAX_LENGTH: Final = 64


class QuantityError(ValueError):
    """Why a value is not a quantity the API server accepts for a request or limit."""


def parse_quantity(value: object) -> Decimal:
    """The amount ``value`` stands for (in base units: cores, bytes), or :class:`QuantityError`.

    YAML and JSON numbers are read as the API server reads them (``2``, ``0.5``); booleans,
    infinities and everything that does not match the grammar are rejected.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise QuantityError(f"{type(value).__name__} is not a quantity")
    if isinstance(value, int):  # checked as a number: repr() of a huge int is slow, or refused
        if value < 0:
            raise QuantityError(f"{value} is negative")
        if value > _MAX:
            raise QuantityError("the number is out of range (at most 2^63-1)")
        return Decimal(value)
    if isinstance(value, float) and math.isinf(value):  # 1e1000 as a YAML or JSON number
        raise QuantityError("the number is out of range (at most 2^63-1)")
    text = value if isinstance(value, str) else repr(value)
    match = _QUANTITY.fullmatch(text) if len(text) <= _MAX_LENGTH else None
    if match is None:
        raise QuantityError(f"{_shown(text)} is not a quantity (e.g. 500m, 128Mi, 2)")
    sign, digits, suffix = match.groups()
    try:
        amount = Decimal(digits)
        if suffix in _BINARY:
            amount *= Decimal(1024) ** _BINARY[suffix]
        elif suffix:
            exponent = _DECIMAL[suffix] if suffix in _DECIMAL else int(suffix[1:])
            if exponent > 30:  # past 2^63 whatever the digits; spares Decimal an enormous power
                raise QuantityError(f"{_shown(text)} is out of range (at most 2^63-1)")
            amount = amount.scaleb(exponent)
    except InvalidOperation as error:  # an exponent past any range (the API server's is 32 bits)
        raise QuantityError(f"{_shown(text)} is not a quantity") from error
    if sign == "-" and amount != 0:
        raise QuantityError(f"{_shown(text)} is negative")
    if amount > _MAX:
        raise QuantityError(f"{_shown(text)} is out of range (at most 2^63-1)")
    return amount


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")
