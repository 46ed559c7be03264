"""How much of a scan's output is listed; kept apart so the CLI can name the defaults without
importing the engine (start-up time)."""

from __future__ import annotations

from typing import Final

# Findings listed per rule and object; the rest become one summary finding. A pod with a thousand
# containers or a role with thousands of rules must not fill memory and reports with repeats.
MAX_FINDINGS_PER_RULE_AND_OBJECT: Final = 100
# Findings listed per rule over the whole scan (0: no limit). Far above what a real cluster gives
# (about 3,000 per rule on 10,000 objects), but 100,000 copies of one small pod would otherwise
# turn 15 MB of YAML into millions of findings and gigabytes of memory.
MAX_FINDINGS_PER_RULE: Final = 25_000
