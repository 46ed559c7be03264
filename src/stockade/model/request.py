"""What an admission request adds to the object it carries, for the rules that read it (user
policies: CEL's ``request`` and ``oldObject``, Gatekeeper's ``input.review``). A scan has no
request: it judges objects as if each were being created."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class RequestFacts:
    operation: str = "CREATE"  # CREATE or UPDATE (the webhook judges no other)
    old_object: Mapping[str, Any] | None = None
    user_info: Mapping[str, Any] = field(default_factory=dict)
    sub_resource: str = ""
    dry_run: bool = False
    # The namespace's labels as the webhook's namespace cache knows them (None: not known).
    namespace_labels: Mapping[str, str] | None = None
