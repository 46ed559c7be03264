"""The Kubernetes CEL libraries the ``cel`` package lacks, as functions on a ``cel.Context``.

The package brings the standard library and the strings, lists, math, sets and encoders
extensions; Kubernetes adds regex (``find``, ``findAll``), more of the lists library
(``isSorted``, ``indexOf``/``lastIndexOf`` on lists), ``format``, and the quantity, URL, IP/CIDR
and semver types. The package has no user-defined types, so each of those values is a map with
one reserved key (``@quantity``, ``@url``, ``@ip``, ``@cidr``, ``@semver``) holding its text; the
functions below take and return such maps. ``string()`` of one shows the map, not the text, and
``==`` compares texts (``quantity('1') == quantity('1000m')`` is false where Kubernetes says
true: use ``compareTo`` / ``isEqual``-free comparisons as the Kubernetes docs advise).
"""

from __future__ import annotations

import ipaddress
import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any
from urllib.parse import parse_qs, urlsplit

# Each library function's name as expressions call it (receiver first, as CEL passes it).
Function = Callable[..., Any]

QUANTITY, URL, IP, CIDR, SEMVER = "@quantity", "@url", "@ip", "@cidr", "@semver"
MAX_REGEX_INPUT = 100_000  # characters; CEL's regex functions are linear, Python's are not


class CelLibraryError(ValueError):
    """A library function called with a value it cannot take (an evaluation error)."""


def _typed(value: object, key: str) -> str | None:
    if isinstance(value, Mapping) and len(value) == 1 and key in value and isinstance(value[key], str):
        return str(value[key])
    return None


def _kind_of(value: object) -> str | None:
    if isinstance(value, Mapping) and len(value) == 1:
        key = next(iter(value))
        if key in (QUANTITY, URL, IP, CIDR, SEMVER):
            return str(key)
    return None


# -- regex and strings ---------------------------------------------------------------------------
def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise CelLibraryError(f"invalid regular expression {pattern!r}: {exc}") from None


def _bounded(text: str) -> str:
    if len(text) > MAX_REGEX_INPUT:
        raise CelLibraryError(f"regex input longer than {MAX_REGEX_INPUT:,} characters")
    return text


def find(text: str, pattern: str) -> str:
    match = _regex(pattern).search(_bounded(text))
    return match.group(0) if match else ""


def find_all(text: str, pattern: str, limit: int = -1) -> list[str]:
    found = [m.group(0) for m in _regex(pattern).finditer(_bounded(text))]
    return found if limit < 0 else found[:limit]


_VERB = re.compile(r"%(\.\d+)?([sdfeXxobc%])")


def format_string(template: str, values: Sequence[Any]) -> str:
    """CEL's ``string.format``: %s %d %f %e %x %X %o %b %c and %% (with ``%.Nf`` precision)."""
    items = list(values)
    out: list[str] = []
    position = 0
    used = 0
    for match in _VERB.finditer(template):
        out.append(template[position : match.start()])
        position = match.end()
        precision, verb = match.group(1), match.group(2)
        if verb == "%":
            out.append("%")
            continue
        if used >= len(items):
            raise CelLibraryError(f"format: too few arguments for {template!r}")
        value = items[used]
        used += 1
        out.append(_formatted(value, verb, precision))
    out.append(template[position:])
    return "".join(out)


def _formatted(value: Any, verb: str, precision: str | None) -> str:
    if verb == "s":
        if isinstance(value, bool):
            return "true" if value else "false"
        if value is None:
            return "null"
        return str(value)
    if verb in ("f", "e"):
        digits = int(precision[1:]) if precision else 6
        return f"{float(value):.{digits}{verb}}"
    if not isinstance(value, int) or isinstance(value, bool):
        if verb == "d":
            raise CelLibraryError(f"format: %d needs an integer, got {value!r}")
        if isinstance(value, str) and verb in ("x", "X"):
            return value.encode().hex().upper() if verb == "X" else value.encode().hex()
        raise CelLibraryError(f"format: %{verb} needs an integer, got {value!r}")
    return {"d": str(value), "x": f"{value:x}", "X": f"{value:X}", "o": f"{value:o}", "b": f"{value:b}"}.get(
        verb, chr(value)
    )


# -- lists ------------------------------------------------------------------------------------------
def is_sorted(items: Sequence[Any]) -> bool:
    return all(not (b < a) for a, b in itertools.pairwise(items))


def index_of(receiver: Any, value: Any, *rest: Any) -> int:
    if isinstance(receiver, str):
        start = int(rest[0]) if rest else 0
        return receiver.find(str(value), start)
    for index, item in enumerate(receiver):
        if item == value:
            return index
    return -1


def last_index_of(receiver: Any, value: Any, *rest: Any) -> int:
    if isinstance(receiver, str):
        return receiver.rfind(str(value)) if not rest else receiver.rfind(str(value), 0, int(rest[0]) + len(value))
    for index in range(len(receiver) - 1, -1, -1):
        if receiver[index] == value:
            return index
    return -1


# -- quantity ---------------------------------------------------------------------------------------
_QUANTITY = re.compile(r"([+-]?)(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?")
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


def _amount(text: str) -> Fraction:
    match = _QUANTITY.fullmatch(text) if len(text) <= 64 else None
    if match is None:
        raise CelLibraryError(f"{text!r} is not a quantity")
    sign, number, suffix = match.groups()
    try:
        amount = Fraction(Decimal(number))
    except InvalidOperation:
        raise CelLibraryError(f"{text!r} is not a quantity") from None
    if suffix in _BINARY:
        amount *= 2 ** _BINARY[suffix]
    elif suffix in _DECIMAL:
        amount *= Fraction(10) ** _DECIMAL[suffix]
    elif suffix:
        exponent = int(suffix[1:])
        if abs(exponent) > 30:
            raise CelLibraryError(f"{text!r}: exponent out of range")
        amount *= Fraction(10) ** exponent
    return -amount if sign == "-" else amount


def _quantity_amount(value: object) -> Fraction:
    text = _typed(value, QUANTITY)
    if text is not None:
        return _amount(text)
    if isinstance(value, int) and not isinstance(value, bool):
        return Fraction(value)
    raise CelLibraryError(f"expected a quantity, got {value!r}")


def _from_amount(amount: Fraction) -> dict[str, str]:
    if amount.denominator == 1:
        return {QUANTITY: str(amount.numerator)}
    milli = amount * 1000
    if milli.denominator == 1:
        return {QUANTITY: f"{milli.numerator}m"}
    nano = amount * 10**9
    return {QUANTITY: f"{round(nano)}n"}


def quantity(text: str) -> dict[str, str]:
    _amount(text)
    return {QUANTITY: text}


def is_quantity(text: str) -> bool:
    try:
        _amount(text)
    except CelLibraryError:
        return False
    return True


def _quantity_ops() -> dict[str, Function]:
    def add(a: object, b: object) -> dict[str, str]:
        return _from_amount(_quantity_amount(a) + _quantity_amount(b))

    def sub(a: object, b: object) -> dict[str, str]:
        return _from_amount(_quantity_amount(a) - _quantity_amount(b))

    def as_integer(a: object) -> int:
        amount = _quantity_amount(a)
        if amount.denominator != 1 or abs(amount) >= 2**63:
            raise CelLibraryError("cannot convert the quantity to an integer without losing precision")
        return int(amount)

    def is_integer(a: object) -> bool:
        amount = _quantity_amount(a)
        return amount.denominator == 1 and abs(amount) < 2**63

    def sign(a: object) -> int:
        amount = _quantity_amount(a)
        return (amount > 0) - (amount < 0)

    return {
        "add": add,
        "sub": sub,
        "asInteger": as_integer,
        "isInteger": is_integer,
        "asApproximateFloat": lambda a: float(_quantity_amount(a)),
        "sign": sign,
    }


# -- semver -------------------------------------------------------------------------------------------
_SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-.]+)?"
)


def _semver_parts(value: object) -> tuple[int, int, int, tuple[tuple[int, int | str], ...] | None]:
    text = _typed(value, SEMVER)
    match = _SEMVER.fullmatch(text) if text is not None else None
    if match is None:
        raise CelLibraryError(f"expected a semver, got {value!r}")
    pre = match.group(4)
    ids = tuple((0, int(p)) if p.isdigit() else (1, p) for p in pre.split(".")) if pre is not None else None
    return int(match.group(1)), int(match.group(2)), int(match.group(3)), ids


def _semver_key(value: object) -> tuple[Any, ...]:
    major, minor, patch, pre = _semver_parts(value)
    # A release sorts after its pre-releases.
    return (major, minor, patch, 1 if pre is None else 0, pre or ())


def semver(text: str) -> dict[str, str]:
    if _SEMVER.fullmatch(text) is None:
        raise CelLibraryError(f"{text!r} is not a semantic version")
    return {SEMVER: text}


# -- URL ------------------------------------------------------------------------------------------------
def url(text: str) -> dict[str, str]:
    if not is_url(text):
        raise CelLibraryError(f"{text!r} is not an absolute URL or an absolute path")
    return {URL: text}


def is_url(text: str) -> bool:
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return bool(parts.scheme and parts.netloc) or (not parts.scheme and text.startswith("/"))


def _url_parts(value: object) -> Any:
    text = _typed(value, URL)
    if text is None:
        raise CelLibraryError(f"expected a URL, got {value!r}")
    return urlsplit(text)


def _get_host(value: object) -> str:
    return str(_url_parts(value).netloc).rpartition("@")[2]


def _get_hostname(value: object) -> str:
    return str(_url_parts(value).hostname or "")


def _get_port(value: object) -> str:
    host = _get_host(value)
    if host.startswith("["):
        return host.rpartition("]:")[2] if "]:" in host else ""
    return host.rpartition(":")[2] if ":" in host else ""


def _get_query(value: object) -> dict[str, list[str]]:
    return {k: list(v) for k, v in parse_qs(_url_parts(value).query, keep_blank_values=True).items()}


# -- IP and CIDR ----------------------------------------------------------------------------------------
def _address(value: object) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    text = _typed(value, IP) if not isinstance(value, str) else value
    try:
        if text is None or "%" in text:
            raise ValueError
        return ipaddress.ip_address(text)
    except ValueError:
        raise CelLibraryError(f"expected an IP address, got {value!r}") from None


def _network(value: object) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]:
    text = _typed(value, CIDR) if not isinstance(value, str) else value
    try:
        if text is None:
            raise ValueError
        return ipaddress.ip_network(text, strict=False), text
    except ValueError:
        raise CelLibraryError(f"expected a CIDR, got {value!r}") from None


def ip(value: object) -> dict[str, str]:
    if _kind_of(value) == CIDR:  # cidr('10.0.0.0/8').ip(): the address written before the slash
        return {IP: _network(value)[1].partition("/")[0]}
    return {IP: str(_address(value))}


def is_ip(text: str) -> bool:
    try:
        _address(text)
    except CelLibraryError:
        return False
    return True


def cidr(text: str) -> dict[str, str]:
    _network(text)
    if "/" not in text:
        raise CelLibraryError(f"{text!r} is not a CIDR (no prefix length)")
    return {CIDR: text}


def is_cidr(text: str) -> bool:
    try:
        cidr(text)
    except CelLibraryError:
        return False
    return True


def _contains_ip(network: object, address: object) -> bool:
    return _address(address) in _network(network)[0]


def _contains_cidr(network: object, other: object) -> bool:
    outer, inner = _network(network)[0], _network(other)[0]
    return inner.version == outer.version and inner.subnet_of(outer)  # type: ignore[arg-type]


def _masked(network: object) -> dict[str, str]:
    return {CIDR: str(_network(network)[0])}


# -- shared names -----------------------------------------------------------------------------------------
def compare_to(a: object, b: object) -> int:
    kind = _kind_of(a)
    if kind == QUANTITY:
        x, y = _quantity_amount(a), _quantity_amount(b)
    elif kind == SEMVER:
        x, y = _semver_key(a), _semver_key(b)  # type: ignore[assignment]
    else:
        raise CelLibraryError(f"compareTo needs two quantities or two semvers, got {a!r}")
    return (x > y) - (x < y)


def _family(value: object) -> int:
    return _address(value).version


def _version_part(index: int) -> Function:
    return lambda value: _semver_parts(value)[index]


def kubernetes_functions() -> dict[str, Function]:
    """Name → function, for ``cel.Context.add_function``."""
    functions: dict[str, Function] = {
        "find": find,
        "findAll": find_all,
        "format": format_string,
        "isSorted": is_sorted,
        "indexOf": index_of,
        "lastIndexOf": last_index_of,
        "quantity": quantity,
        "isQuantity": is_quantity,
        "compareTo": compare_to,
        "isLessThan": lambda a, b: compare_to(a, b) < 0,
        "isGreaterThan": lambda a, b: compare_to(a, b) > 0,
        "semver": semver,
        "isSemver": lambda text: _SEMVER.fullmatch(text) is not None,
        "major": _version_part(0),
        "minor": _version_part(1),
        "patch": _version_part(2),
        "url": url,
        "isURL": is_url,
        "getScheme": lambda u: _url_parts(u).scheme,
        "getHost": _get_host,
        "getHostname": _get_hostname,
        "getPort": _get_port,
        "getEscapedPath": lambda u: _url_parts(u).path,
        "getQuery": _get_query,
        "ip": ip,
        "isIP": is_ip,
        "family": _family,
        "isUnspecified": lambda a: _address(a).is_unspecified,
        "isLoopback": lambda a: _address(a).is_loopback,
        "isLinkLocalMulticast": lambda a: _address(a).is_multicast and _address(a).is_link_local,
        "isLinkLocalUnicast": lambda a: _address(a).is_link_local and not _address(a).is_multicast,
        "isGlobalUnicast": lambda a: _address(a).is_global and not _address(a).is_multicast,
        "cidr": cidr,
        "isCIDR": is_cidr,
        "containsIP": _contains_ip,
        "containsCIDR": _contains_cidr,
        "masked": _masked,
        "prefixLength": lambda n: _network(n)[0].prefixlen,
    }
    functions.update(_quantity_ops())
    return functions
