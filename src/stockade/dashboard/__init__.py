"""``stockade dashboard``: the posture dashboard, a read-only web view of the history store.

Server-rendered pages (Starlette and autoescaped Jinja templates; no script, assets in the
package): the posture overview (every cluster's open findings, the trend, the crawl / walk / run
scorecard), findings with filters and each finding's lifecycle, the RBAC explorer, attack paths
with the fixes that cut the most, and exceptions with their expiry. One PostgreSQL store can hold
many clusters. See ``docs/dashboard.md``.
"""
