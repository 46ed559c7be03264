"""Reading YAML and JSON text into documents, quickly and without trusting it.

YAML is parsed by ``yaml_rs`` (a Rust parser, about ten times faster than libyaml through PyYAML)
one document at a time: the stream is first split on its ``---`` / ``...`` marker lines (see
:mod:`stockade.sources.documents`), so a broken document costs one error and the others are
still read, and every error's line is given in the file's own numbering. JSON is parsed by
orjson.

What the loader guarantees:

* YAML 1.2 scalars: ``yes``/``on``/``no``/``off`` stay strings, dates stay strings
  (``parse_datetime=False``); rules that care about YAML 1.1 booleans read the strings. Plain
  integers with a leading zero are read as octal, as kubectl reads them
  (:mod:`stockade.sources.compat`); merge keys (``<<``) are applied.
* Duplicate keys are errors (kubectl refuses them too). JSON keeps the last of duplicate keys, as
  the Kubernetes API server's JSON decoder does.
* Alias expansion has a budget (``ParseLimits.max_alias_events``), so "billion laughs" documents
  fail fast. Nesting is capped (``ParseLimits.max_depth``): lines indented deep enough to matter
  are checked with libyaml's event stream *before* the Rust parser sees them (it recurses on the
  native stack and would crash the process), and every parsed document is checked after.
* Raw control characters are refused; error messages never quote the input (it may be a Secret).
* A document that does not parse but contains ``{{`` is reported as an unrendered template.
* A document refused only for a tag the parser does not know (``!!python/name:…`` in a
  ``mkdocs.yml``) is skipped like any other non-Kubernetes document when its outline, read with
  the tags ignored, lacks ``apiVersion`` or ``kind``; one that has both stays an error.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

import orjson
import yaml
import yaml_rs

from stockade.model.finding import InputProblem
from stockade.sources.compat import fix_octal, has_octal_candidate
from stockade.sources.decode import find_control_character, scan_text
from stockade.sources.documents import Segment, split_documents
from stockade.sources.limits import ParseLimits
from stockade.sources.locate import duplicate_key_line, line_in_text
from stockade.sources.normalize import has_merge_key, normalize
from stockade.sources.quoted import parse_leniently

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_NOT_BLANK = re.compile(r"[^ \t\r\n]")
_POSITION = re.compile(r"at line (\d+), column (\d+)")
_TAG_VALUE = re.compile(r"for '(![^']*)' tag")
_IDENTITY = ("apiVersion", "kind")
_TEMPLATE_HINT = "looks like an unrendered template ({{ … }}): render it first (helm template, …); "


@dataclass(frozen=True, slots=True)
class Document:
    """One parsed document: its index and start line in the input, its value and its text."""

    index: int
    line: int
    value: Any
    text: str  # the document's own slice of the input, for line lookups on errors
    first_line: int  # line of text[0] in the input
    json: bool = False


@dataclass(slots=True)
class Loaded:
    """The documents read from one input and the errors met on the way."""

    documents: list[Document] = field(default_factory=list)
    errors: list[InputProblem] = field(default_factory=list)


def load_yaml(text: str, source: str, limits: ParseLimits) -> Loaded:
    """Parse every document of the YAML stream ``text`` (already decoded) read from ``source``."""
    loaded = Loaded()
    segments = split_documents(text)
    if len(segments) > limits.max_documents:
        cut = segments[limits.max_documents]
        loaded.errors.append(
            InputProblem(
                source,
                f"more than {limits.max_documents} documents; the rest were not read",
                line=cut.line,
                kind="limit",
            )
        )
        segments = segments[: limits.max_documents]
    context = _Context(text, source, limits)
    for index, segment in enumerate(segments):
        if segment.empty:
            continue
        document = context.parse(index, segment)
        if isinstance(document, InputProblem):
            loaded.errors.append(document)
        else:
            loaded.documents.append(document)
    return loaded


def load_json(text: str, source: str, limits: ParseLimits) -> Loaded:
    """Parse a JSON input (one value) read from ``source``."""
    loaded = Loaded()
    first = _NOT_BLANK.search(text)
    if first is None:
        return loaded
    line = text.count("\n", 0, first.start()) + 1
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        message = exc.msg
        if "recursion" in message.lower() or "depth" in message.lower():
            loaded.errors.append(
                InputProblem(source, "JSON nested deeper than the parser allows", exc.lineno, kind="limit")
            )
        else:
            loaded.errors.append(
                InputProblem(source, f"JSON syntax error: {message} (column {exc.colno})", exc.lineno, kind="parse")
            )
        return loaded
    value, problem = normalize(value, limits.depth, merges=False)
    if problem is not None:
        where = line_in_text(text, 1, problem.path, json=True)
        loaded.errors.append(InputProblem(source, problem.message, where or line, kind=problem.kind))
        return loaded
    loaded.documents.append(Document(0, line, value, text, 1, json=True))
    return loaded


class _Context:
    """What every document of one stream shares: flags computed once over the whole text."""

    def __init__(self, text: str, source: str, limits: ParseLimits) -> None:
        self.text = text
        self.source = source
        self.limits = limits
        self.depth = limits.depth
        self.alias_limits = _alias_limits(limits.max_alias_events)
        self.controls, self.deep_lines = scan_text(text, _deep_width(self.depth))
        self.octals = has_octal_candidate(text)
        self.merges = has_merge_key(text)

    def error(self, message: str, line: int | None, kind: str = "parse") -> InputProblem:
        return InputProblem(self.source, message, line, kind=kind)

    def parse(self, index: int, segment: Segment) -> Document | InputProblem:
        text = self.text
        whole = segment.start == 0 and segment.end == len(text)
        body = text if whole else text[segment.start : segment.end]
        if self.controls:
            bad = find_control_character(text, segment.start, segment.end)
            if bad is not None:
                return self._control_error(bad)
        if self.deep_lines and _deep_line(body, self.depth):
            problem = _event_depth_problem(body, self.depth)
            if problem is not None:
                line, message, kind = problem
                return self.error(message, segment.first_line + line, kind)
        try:
            value = parse_leniently(
                body,
                lambda text: yaml_rs.loads(
                    text,
                    parse_datetime=False,
                    alias_limits=self.alias_limits,
                    duplicate_key_policy=yaml_rs.DuplicateKeyPolicy.Error,
                ),
            )
        except Exception as exc:  # any parser failure becomes an InputProblem, never a traceback
            outline = _foreign_outline(exc, body)
            if outline is not None:
                return Document(index, segment.line, outline, body, segment.first_line)
            return self._parse_error(exc, body, segment)
        value, shape = normalize(value, self.depth, merges=self.merges)
        if shape is not None:
            line = line_in_text(body, segment.first_line, shape.path) or segment.line
            message = shape.message
            if "key is itself" in message and "{{" in body:
                message = _TEMPLATE_HINT + message
            return self.error(message, line, shape.kind)
        if self.octals and has_octal_candidate(text, segment.start, segment.end):
            value = fix_octal(value, body)
        return Document(index, segment.line, value, body, segment.first_line)

    def _control_error(self, offset: int) -> InputProblem:
        text = self.text
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        code = f"U+{ord(text[offset]):04X}"
        return self.error(
            f"control character {code} at column {column}: YAML allows only printable characters "
            "(escape it in a double-quoted string)",
            line,
        )

    def _parse_error(self, exc: Exception, body: str, segment: Segment) -> InputProblem:
        message = str(exc).strip()
        lines = message.splitlines() or [type(exc).__name__]
        head, reason = lines[0], lines[-1].strip()
        template = "{{" in body
        position = _POSITION.search(head)
        if isinstance(exc, RecursionError) or reason == "recursion limit exceeded":
            line = segment.first_line + int(position[1]) - 1 if position else segment.line
            return self.error("nesting deeper than the YAML parser allows", line, "limit")
        if position is not None:
            line = segment.first_line + int(position[1]) - 1
            text = f"YAML syntax error: {reason} (column {position[2]})"
            return self.error(_TEMPLATE_HINT + text if template else text, line)
        if head.startswith("duplicate mapping key"):
            found = duplicate_key_line(body)
            line = segment.first_line + found if found is not None else segment.line
            key = head.partition(":")[2].strip()
            return self.error(f"duplicate key {key} in a mapping (kubectl refuses it too)", line)
        if head.startswith("alias replay limit exceeded"):
            return self.error(
                f"YAML aliases expand past the budget of {self.limits.max_alias_events} events (an alias bomb?)",
                segment.line,
                "limit",
            )
        tag = _TAG_VALUE.search(head)
        if tag is not None:  # the message quotes the value; never repeat input text
            return self.error(f"a value does not fit its {tag[1]} tag", segment.line)
        text = f"YAML error: {head[:200]}"
        return self.error(_TEMPLATE_HINT + text if template else text, segment.line)


def _foreign_outline(exc: Exception, body: str) -> dict[str, str] | list[Any] | None:
    """For a document refused for an unknown tag: an outline that shows it is not a Kubernetes
    object (a list, or a mapping with at most one of ``apiVersion`` and ``kind``), so that it is
    skipped as such; None when it may be one, and its error stands."""
    if not str(exc).startswith("Invalid tag"):
        return None
    try:
        # Nodes only: no tag is resolved or constructed, and aliases stay shared (no expansion).
        root = yaml.compose(body, Loader=_Loader)
    except (yaml.YAMLError, RecursionError):
        return None
    if isinstance(root, yaml.SequenceNode):
        return []
    if not isinstance(root, yaml.MappingNode):
        return None
    identity = {key.value: value for key, value in root.value if key.value in _IDENTITY}
    if len(identity) == len(_IDENTITY):
        return None
    return {key: value.value for key, value in identity.items() if isinstance(value, yaml.ScalarNode)}


@functools.lru_cache(maxsize=8)
def _alias_limits(events: int) -> Any:
    return yaml_rs.AliasLimits(max_total_replayed_events=events)


def _deep_width(depth: int) -> int:
    """Every block nesting level costs at least one character of indentation or of ``- ``/``? ``
    indicators at the start of a line; lines shorter than this cannot reach past ``depth`` levels,
    so when no line starts with this many, the native parser's recursion stays within bounds."""
    return 2 * depth + 2


@functools.lru_cache(maxsize=8)
def _deep_prefix(width: int) -> re.Pattern[str]:
    return re.compile(f"(?:\\A|\n)[ \t?:-]{{{width}}}")


def _deep_line(text: str, depth: int) -> bool:
    """Whether a line of ``text`` starts deep enough to need the exact (event stream) depth check."""
    return _deep_prefix(_deep_width(depth)).search(text) is not None


def _event_depth_problem(text: str, depth: int) -> tuple[int, str, str] | None:
    """(0-based line, message, kind) when ``text`` nests deeper than ``depth``; libyaml's event
    stream keeps its own stack, so any depth is safe to measure."""
    level = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.CollectionStartEvent):
                level += 1
                if level > depth:
                    line: int = getattr(event.start_mark, "line", 0)
                    return line, f"nesting deeper than {depth} levels", "limit"
            elif isinstance(event, yaml.CollectionEndEvent):
                level -= 1
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        return getattr(mark, "line", 0), f"YAML syntax error: {exc.problem or 'unreadable'}", "parse"
    except yaml.YAMLError as exc:
        return 0, f"YAML error: {str(exc)[:200]}", "parse"
    return None
