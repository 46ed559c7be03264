"""The Kubernetes CEL libraries the ``cel`` package lacks, as functions on a ``cel.Context``.

The package brings the standard library and the strings, lists, math, sets and encoders
extensions; Kubernetes adds regex (``find``, ``findAll``), more of the lists library
(``isSorted``, ``indexOf``/``lastIndexOf`` on lists), ``format``, and the quantity, URL, IP/CIDR
and semver types. The package has no user-defined types, so each of those values is a map with
one reserved key (``@quantity``, ``@url``, ``@ip``, ``@cidr``, ``@semver``) holding its text; the
functions below take and return such maps. Quantities, addresses and CIDRs are kept in a canonical
text (``quantity('1')`` and ``quantity('1000m')`` hold the same), so ``==`` compares values as
Kubernetes does. ``string()`` of one shows the map, not the text.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

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


def _shown(value: Any, *, nested: bool) -> str:
    """``%s`` of a value as CEL writes it: strings inside lists and maps quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False) if nested else value
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_shown(item, nested=True) for item in value) + "]"
    if isinstance(value, Mapping):
        items = (f"{_shown(k, nested=True)}: {_shown(v, nested=True)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    return str(value)


def _formatted(value: Any, verb: str, precision: str | None) -> str:
    if verb == "s":
        return _shown(value, nested=False)
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
    """The canonical text of ``amount``: an integer, else milli-units, else nano-units (the finest
    a Kubernetes quantity keeps; finer amounts round up, away from zero, as the API server does)."""
    if amount.denominator == 1:
        return {QUANTITY: str(amount.numerator)}
    milli = amount * 1000
    if milli.denominator == 1:
        return {QUANTITY: f"{milli.numerator}m"}
    nano = amount * 10**9
    whole = math.ceil(abs(nano))
    return {QUANTITY: f"{whole if nano > 0 else -whole}n"}


def quantity(text: str) -> dict[str, str]:
    return _from_amount(_amount(text))


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


def _normalized_semver(text: str) -> str:
    """Kubernetes' lenient reading (``semver(text, true)``): a leading ``v``, missing minor and
    patch numbers, and leading zeros are accepted."""
    text = text.removeprefix("v")
    cut = min((i for i in (text.find("-"), text.find("+")) if i >= 0), default=len(text))
    core, rest = text[:cut], text[cut:]
    numbers = core.split(".")
    if not 1 <= len(numbers) <= 3 or not all(n.isdigit() for n in numbers):
        return text
    return ".".join([str(int(n)) for n in numbers] + ["0"] * (3 - len(numbers))) + rest


def semver(text: str, normalize: bool = False) -> dict[str, str]:
    version = _normalized_semver(text) if normalize else text
    if _SEMVER.fullmatch(version) is None:
        raise CelLibraryError(f"{text!r} is not a semantic version")
    return {SEMVER: version}


def is_semver(text: str, normalize: bool = False) -> bool:
    return _SEMVER.fullmatch(_normalized_semver(text) if normalize else text) is not None


# -- URL ------------------------------------------------------------------------------------------------
def url(text: str) -> dict[str, str]:
    if not is_url(text):
        raise CelLibraryError(f"{text!r} is not an absolute URL or an absolute path")
    return {URL: text}


def is_url(text: str) -> bool:
    """An absolute URL with a host, or an absolute path (Go's ``url.ParseRequestURI``)."""
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in text):
        return False
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - a port that is not a number is refused
    except ValueError:
        return False
    if " " in parts.netloc:
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
    host = _get_host(value)
    if host.startswith("["):  # an IPv6 address, without its brackets
        return host[1:].partition("]")[0]
    return host.partition(":")[0]


# Characters a path keeps unescaped, and a "%" not starting an escape (two patterns: a repeated
# alternation of the two would backtrack on long paths).
_PATH_CHARS = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/\[\]%]*")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _get_escaped_path(value: object) -> str:
    """The path as written when it is validly escaped, else escaped (Go's ``EscapedPath``)."""
    path = str(_url_parts(value).path)
    if _PATH_CHARS.fullmatch(path) and _BAD_ESCAPE.search(path) is None:
        return path
    return quote(unquote(path), safe="$&+,/:;=@")


def _get_port(value: object) -> str:
    host = _get_host(value)
    if host.startswith("["):
        return host.rpartition("]:")[2] if "]:" in host else ""
    return host.rpartition(":")[2] if ":" in host else ""


def _get_query(value: object) -> dict[str, list[str]]:
    return {k: list(v) for k, v in parse_qs(_url_parts(value).query, keep_blank_values=True).items()}


# -- IP and CIDR ----------------------------------------------------------------------------------------
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_LINK_LOCAL_MULTICAST = (ipaddress.ip_network("224.0.0.0/24"), ipaddress.ip_network("ff02::/16"))


def _parsed_address(text: str) -> Address:
    """``text`` as Go's netip reads it for Kubernetes: no zone, no IPv4-mapped IPv6 address."""
    address = ipaddress.ip_address(text)  # ValueError; refuses IPv4 with leading zeros too
    if "%" in text or (isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None):
        raise ValueError(text)
    return address


def _address(value: object) -> Address:
    text = _typed(value, IP) if not isinstance(value, str) else value
    try:
        if text is None:
            raise ValueError
        return _parsed_address(text)
    except ValueError:
        raise CelLibraryError(f"expected an IP address, got {value!r}") from None


def _network(value: object) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, Address]:
    """The network of a CIDR and the address written in it (``10.1.2.3/8``: 10.0.0.0/8, 10.1.2.3)."""
    text = _typed(value, CIDR) if not isinstance(value, str) else value
    try:
        if text is None:
            raise ValueError
        written, slash, bits = text.partition("/")
        if not slash or not bits.isdigit() or (len(bits) > 1 and bits.startswith("0")):
            raise ValueError
        address = _parsed_address(written)
        return ipaddress.ip_network(f"{address}/{int(bits)}", strict=False), address
    except ValueError:
        raise CelLibraryError(f"expected a CIDR, got {value!r}") from None


def ip(value: object) -> dict[str, str]:
    if _kind_of(value) == CIDR:  # cidr('10.1.2.3/8').ip(): the address written before the slash
        return {IP: str(_network(value)[1])}
    return {IP: str(_address(value))}


def is_ip(text: str) -> bool:
    try:
        _address(text)
    except CelLibraryError:
        return False
    return True


def cidr(text: str) -> dict[str, str]:
    network, address = _network(text)
    return {CIDR: f"{address}/{network.prefixlen}"}


def is_cidr(text: str) -> bool:
    try:
        cidr(text)
    except CelLibraryError:
        return False
    return True


def is_canonical_ip(text: str) -> bool:
    """``ip.isCanonical``: ``text`` is an address written as Go writes it back (lower case,
    shortest IPv6 form); an error when it is not an address."""
    return str(_address(text)) == text


def _is_global_unicast(value: object) -> bool:
    # Go's definition: private ranges included; not unspecified, loopback, multicast,
    # link-local unicast, nor the IPv4 broadcast address.
    address = _address(value)
    return not (
        address.is_unspecified
        or address.is_loopback
        or address.is_multicast
        or (address.is_link_local and not address.is_multicast)
        or address == ipaddress.IPv4Address("255.255.255.255")
    )


def _is_link_local_multicast(value: object) -> bool:
    address = _address(value)
    return any(address in network for network in _LINK_LOCAL_MULTICAST)


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
        "isSemver": is_semver,
        "major": _version_part(0),
        "minor": _version_part(1),
        "patch": _version_part(2),
        "url": url,
        "isURL": is_url,
        "getScheme": lambda u: _url_parts(u).scheme,
        "getHost": _get_host,
        "getHostname": _get_hostname,
        "getPort": _get_port,
        "getEscapedPath": _get_escaped_path,
        "getQuery": _get_query,
        "ip": ip,
        "isIP": is_ip,
        "ip.isCanonical": is_canonical_ip,
        "family": _family,
        "isUnspecified": lambda a: _address(a).is_unspecified,
        "isLoopback": lambda a: _address(a).is_loopback,
        "isLinkLocalMulticast": _is_link_local_multicast,
        "isLinkLocalUnicast": lambda a: _address(a).is_link_local and not _address(a).is_multicast,
        "isGlobalUnicast": _is_global_unicast,
        "cidr": cidr,
        "isCIDR": is_cidr,
        "containsIP": _contains_ip,
        "containsCIDR": _contains_cidr,
        "masked": _masked,
        "prefixLength": lambda n: _network(n)[0].prefixlen,
    }
    functions.update(_quantity_ops())
    return functions
