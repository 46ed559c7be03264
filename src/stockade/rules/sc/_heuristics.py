"""Heuristics that tell a credential from an ordinary setting, without ever repeating the value.

Every function returns a *reason* ("name looks like a password", "value matches an AWS access key
pattern") and never the value or any part of it: findings, logs and reports must not become a
second copy of the secret.

The order of the checks, strongest evidence first: known credential formats anywhere in the text,
a URL with embedded credentials, then (for values that are not obviously harmless) the variable's
name, then the Shannon entropy of values that look random.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from stockade.model.finding import Severity

# Known credential formats. Searched (not matched) so a key inside a larger file is found too.
# Each comes with literal fragments one of which every match contains: a substring test over a
# megabyte of dashboard JSON is far cheaper than a regex with look-behinds at every position.
_PATTERNS: tuple[tuple[str, tuple[str, ...], re.Pattern[str]], ...] = (
    # The words before PRIVATE KEY (RSA, OPENSSH, ENCRYPTED, PGP …) as a bounded run: a repeated
    # group backtracks word by word and grew faster than the input on a long run of words.
    ("a private key (PEM)", ("PRIVATE KEY",), re.compile(r"-----BEGIN [A-Z0-9 ]{0,64}?PRIVATE KEY(?: BLOCK)?-----")),
    (
        "an AWS access key",
        ("AKIA", "ASIA", "ABIA", "ACCA"),
        re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])"),
    ),
    (
        "a GitHub token",
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
        re.compile(r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})"),
    ),
    ("a GitLab token", ("glpat-",), re.compile(r"(?<![A-Za-z0-9_])glpat-[A-Za-z0-9_-]{20,}")),
    ("a Slack token", ("xox",), re.compile(r"(?<![A-Za-z0-9])xox[abposr]-[A-Za-z0-9-]{10,}")),
    (
        "a Slack webhook URL",
        ("hooks.slack.com",),
        re.compile(r"hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]{16,}"),
    ),
    ("a Google API key", ("AIza",), re.compile(r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])")),
    ("a Stripe live key", ("_live_",), re.compile(r"(?<![A-Za-z0-9])(?:sk|rk)_live_[0-9A-Za-z]{24,}")),
    ("an npm token", ("npm_",), re.compile(r"(?<![A-Za-z0-9])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])")),
    ("an Azure storage account key", ("AccountKey=",), re.compile(r"AccountKey=[A-Za-z0-9+/]{40,}={0,2}")),
    (
        "a JSON Web Token",
        ("eyJ",),
        re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
    ),
)

# Every pattern below runs on text a tenant wrote, so each is linear in its length: runs are
# possessive (never given back), and URLs are found from their "://" rather than tried at every
# position.
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")
_USERINFO_PASSWORD = re.compile(r"://[^/\s:@]*+:(?P<password>[^/\s@]++)@")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*+://\S+")
_NUMBER_OR_QUANTITY = re.compile(r"[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[A-Za-z]{0,3}")
_PATH = re.compile(r"(?:~|\.{1,2})?/[\w.@:+/-]*")
_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "y", "n", "null", "none", "nil", "~"})
_RANDOM_CHARSET = re.compile(r"[A-Za-z0-9+/=_.-]+")
_SEPARATORS = re.compile(r"[-_.]")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_NAME_SPLIT = re.compile(r"[^A-Z0-9]+")
# Name hints, checked on the upper-cased name with separators folded to "_".
_NAME_HINTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a private key", re.compile(r"PRIVATE_?KEY")),
    ("a password", re.compile(r"PASSWORD|PASSWD|PASSPHRASE|(?:^|_)(?:PASS|PWD|PW)(?:_|$)")),
    ("a secret", re.compile(r"SECRET")),
    ("a token", re.compile(r"TOKEN")),
    (
        "an API key",
        re.compile(
            r"API_?KEY|ACCESS_?KEY|(?:SIGNING|ENCRYPTION|MASTER|SESSION|AUTH|LICEN[CS]E|STORAGE|ACCOUNT|SHARED|CLIENT)_?KEY"
            r"|(?:^|_)KEY_CONTENT(?:_|$)"
        ),
    ),
    ("credentials", re.compile(r"CREDENTIAL|(?:^|_)(?:CREDS|AUTH)(?:_|$)")),
    ("a connection string", re.compile(r"CONN(?:ECTION)?_?STR(?:ING)?|(?:^|_)DSN(?:_|$)")),
)
# A last name segment that says the value describes a secret rather than being one.
_DESCRIPTOR_SUFFIXES = _words(
    """
    FILE PATH DIR NAME REF KEYREF ENABLED ENABLE DISABLED DISABLE REQUIRED TTL TIMEOUT EXPIRY EXPIRES
    EXPIRATION LIFETIME LENGTH LEN SIZE TYPE MODE FORMAT HEADER ALGORITHM ALG ISSUER AUDIENCE ENDPOINT
    URL URI HOST PORT USER USERNAME ID KEYID REGION VERSION LOCATION PROVIDER SOURCE POLICY ROTATION
    INTERVAL COUNT MIN MAX LIMIT PREFIX SUFFIX FIELD PARAM STORE MOUNT KIND SCOPE SCOPES METHOD STRATEGY
    """
)
# Name segments of values that are random but public: ids, hashes, versions.
_NOT_SECRET_SEGMENTS = _words(
    """
    ID IDS UUID GUID SHA SHA1 SHA256 HASH COMMIT REVISION REV DIGEST CHECKSUM VERSION BUILD IMAGE TAG
    FINGERPRINT THUMBPRINT NONCE SALT
    """
)
# Shell variables whose names look like credentials but are not (in a container's environment
# only: a ConfigMap key named PWD is a password).
_SHELL_VARIABLES = frozenset({"PWD", "OLDPWD"})
# Names that carry an HTTP Authorization header value: a credential even though "HEADER" usually
# says the value only describes one.
_AUTHORIZATION_NAME = re.compile(r"AUTHORIZATION|(?:^|_)AUTH_?HEADER(?:_|$)")
_AUTHORIZATION_SCHEMES = frozenset({"bearer", "basic", "token", "digest", "negotiate"})
# ``Authorization`` header values: a scheme and its credential.
_AUTHORIZATION_VALUE = re.compile(r"(?i:bearer|basic|token|digest|negotiate)[ ]++[A-Za-z0-9+/=._~-]{8,}+")

_MIN_RANDOM_LENGTH = 16
_MAX_SCANNED_LENGTH = 1_000_000
_FILE_KEY = re.compile(r"""\s*+(?:export\s++)?["']?+([A-Za-z0-9_.\-]++)["']?+\s*+[:=]""")
# Every name that name_hint() flags contains one of these (case-insensitively): lines whose key has
# none of them are not looked at line by line.
_HINT_FRAGMENTS = ("pass", "pw", "secret", "token", "key", "cred", "auth", "conn", "dsn")  # "auth" covers AUTHORIZATION


def _may_hint(text: str) -> bool:
    # Substring tests on a lower-cased copy: several times faster than one case-insensitive regex.
    lowered = text.lower()
    return any(fragment in lowered for fragment in _HINT_FRAGMENTS)


@dataclass(frozen=True, slots=True)
class SecretHint:
    """Why a value looks like a credential; ``severity`` overrides the rule's (None keeps it)."""

    reason: str
    severity: Severity | None = None


def shannon_entropy(text: str) -> float:
    """Bits per character of ``text`` (0.0 for an empty string)."""
    if not text:
        return 0.0
    length = len(text)
    return -sum(n / length * math.log2(n / length) for n in Counter(text).values())


def known_pattern(text: str) -> str | None:
    """The credential format found in ``text`` ("an AWS access key"), or None."""
    for label, fragments, pattern in _PATTERNS:
        if any(fragment in text for fragment in fragments) and pattern.search(text):
            return label
    return None


# Placeholders that stand for a value given elsewhere: $(VAR), ${VAR}, {{ .Values.x }}, <secret>,
# %(name)s and masks of three or more asterisks.
_REFERENCE_ENDS = (("$(", ")"), ("${", "}"), ("{{", "}}"), ("%(", ")s"))


def _reference_end(text: str, at: int) -> int:
    """Where the placeholder starting at ``at`` ends, or -1 when none starts there."""
    for opening, closing in _REFERENCE_ENDS:
        if text.startswith(opening, at):
            end = text.find(closing, at + len(opening))
            if end < 0 or (opening == "{{" and "\n" in text[at:end]):
                return -1
            return end + len(closing)
    if text.startswith("<", at):
        end = text.find(">", at + 1)
        return end + 1 if end >= 0 and "<" not in text[at + 1 : end] else -1
    if text.startswith("***", at):
        end = at
        while end < len(text) and text[end] == "*":
            end += 1
        return end
    return -1


def _is_reference(text: str) -> bool:
    """Whether ``text`` is nothing but placeholders and whitespace (at least one placeholder)."""
    at, seen = 0, False
    while at < len(text):
        if text[at].isspace():
            at += 1
            continue
        at = _reference_end(text, at)
        if at < 0:
            return False
        seen = True
    return seen


def _urls(text: str) -> Iterator[tuple[int, str]]:
    """``(start, url)`` of every ``scheme://…`` in ``text``, as a left-to-right scan finds them."""
    at = text.find("://")
    while at >= 0:
        start = at
        while start > 0 and text[start - 1] in _SCHEME_CHARS:
            start -= 1
        while start < at and not text[start].isalpha():
            start += 1  # a scheme starts with a letter
        if start < at:
            end = at + 3
            while end < len(text) and not text[end].isspace():
                end += 1
            if end > at + 3:
                yield start, text[start:end]
                at = text.find("://", end)
                continue
        at = text.find("://", at + 3)


def url_credentials(text: str) -> str | None:
    """A reason when ``text`` holds a URL with a literal password or a secret-named query parameter."""
    if "://" not in text:
        return None
    at = text.find("://")
    while at >= 0:
        match = _USERINFO_PASSWORD.match(text, at)
        if (
            match is not None
            and at > 0
            and text[at - 1] in _SCHEME_CHARS
            and not _is_reference(match.group("password"))
        ):
            return "value is a URL with an embedded password"
        at = text.find("://", at + 3)
    for _, url in _urls(text):
        try:
            query = urlsplit(url).query
        except ValueError:
            continue
        for key, value in parse_qsl(query):
            hint = name_hint(key)
            if hint is not None and value and not _is_reference(value):
                return f"value is a URL with {hint} in its query string"
    return None


def name_segments(name: str) -> list[str]:
    return [part for part in _NAME_SPLIT.split(name.upper()) if part]


def name_hint(name: str, *, environment: bool = True) -> str | None:
    """What a variable name says its value is ("a password"), or None. ``environment`` False (a
    ConfigMap key, a setting in a file) drops the exemption for shell variables such as PWD."""
    segments = name_segments(name)
    joined = "_".join(segments)
    if _AUTHORIZATION_NAME.search(joined):
        return "an HTTP Authorization credential"
    if not segments or (environment and joined in _SHELL_VARIABLES) or segments[-1] in _DESCRIPTOR_SUFFIXES:
        return None
    for label, pattern in _NAME_HINTS:
        if pattern.search(joined):
            return label
    return None


def is_harmless(value: str) -> bool:
    """Values that cannot be a credential: empty, booleans, numbers, paths, references, plain URLs."""
    text = value.strip()
    if not text or text.lower() in _WORDS:
        return True
    if _NUMBER_OR_QUANTITY.fullmatch(text) or _is_reference(text):
        return True
    if _PATH.fullmatch(text) and not _base64_like(text):
        return True
    return bool(_URL.fullmatch(text))  # URLs with credentials were caught before this check


def _base64_like(text: str) -> bool:
    # "/9j/4AAQSkZJRg…" is base64, not a path: a long segment mixing digits, cases and letters.
    return any(len(part) >= 24 and _mixed(part) for part in text.split("/"))


def _mixed(part: str) -> bool:
    has_digit = any(c.isdigit() for c in part)
    letters = [c for c in part if c.isalpha()]
    if not letters:
        return False
    upper = sum(1 for c in letters if c.isupper()) / len(letters)
    return has_digit or 0.25 <= upper <= 0.75


def looks_random(value: str) -> bool:
    """A single token of base64 / hex / url-safe characters with a long run that mixes classes.

    Words joined by dashes (``my-release-postgresql-0``) and CamelCase names are not random; hex
    digests, base64 keys and generated passwords are.
    """
    if len(value) < _MIN_RANDOM_LENGTH or not _RANDOM_CHARSET.fullmatch(value):
        return False
    return any(len(part) >= 12 and _mixed(part) for part in _SEPARATORS.split(value))


def classify(name: str, value: str, entropy_threshold: float, *, environment: bool = True) -> SecretHint | None:
    """Why ``name=value`` looks like a credential, or None (``environment``: see :func:`name_hint`)."""
    if len(value) > _MAX_SCANNED_LENGTH:
        value = value[:_MAX_SCANNED_LENGTH]
    label = known_pattern(value)
    if label is not None:
        return SecretHint(f"value matches {label} pattern", Severity.CRITICAL)
    reason = url_credentials(value)
    if reason is not None:
        return SecretHint(reason)
    scheme, _, credential = value.strip().partition(" ")
    if scheme.lower() in _AUTHORIZATION_SCHEMES and _is_reference(credential):
        return None  # "Bearer $(TOKEN)": the credential comes from elsewhere
    if _AUTHORIZATION_VALUE.fullmatch(value.strip()):
        return SecretHint("value is an HTTP Authorization credential (scheme and token)")
    if is_harmless(value):
        return None
    hint = name_hint(name, environment=environment)
    if hint is not None:
        return SecretHint(f"name looks like {hint}")
    segments = name_segments(name)
    if any(segment in _NOT_SECRET_SEGMENTS for segment in segments) or (
        segments and segments[-1] in _DESCRIPTOR_SUFFIXES
    ):
        return None
    token = value.strip()
    if looks_random(token):
        entropy = shannon_entropy(token)
        if entropy >= entropy_threshold:
            return SecretHint(f"value has high entropy ({entropy:.1f} bits/char)", Severity.MEDIUM)
    return None


def classify_file(text: str) -> SecretHint | None:
    """Like :func:`classify` for a multi-line value (a config file held in one key).

    Known formats are searched in the whole text; then each ``key: value`` / ``key=value`` line is
    judged by its own key. Entropy is not used on whole files: they are full of harmless hashes.
    """
    if len(text) > _MAX_SCANNED_LENGTH:
        text = text[:_MAX_SCANNED_LENGTH]
    label = known_pattern(text)
    if label is not None:
        return SecretHint(f"content matches {label} pattern", Severity.CRITICAL)
    reason = url_credentials(text)
    if reason is not None:
        return SecretHint(reason.replace("value is", "content holds", 1))
    for number, key, value in _file_settings(text):
        hint = name_hint(key, environment=False)
        if hint is not None and not is_harmless(value):
            return SecretHint(f"line {number} sets {key!r}, which looks like {hint}")
    return None


def _file_settings(text: str) -> Iterator[tuple[int, str, str]]:
    """``(line number, key, value)`` of setting lines whose key may name a credential."""
    if not _may_hint(text):
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not _may_hint(line):
            continue
        match = _FILE_KEY.match(line)
        if match is None:
            continue
        key, value = match.group(1), line[match.end() :].strip()
        if value.endswith(","):
            value = value[:-1].rstrip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        yield number, key, value
