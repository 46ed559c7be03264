"""PolicyReports written back to the cluster (``--policy-reports``), so ``kubectl get
policyreports -A`` and Policy Reporter show Stockade's findings.

One ``PolicyReport`` per namespace with results and one ``ClusterPolicyReport``, the documents of
:mod:`stockade.report.policyreport_report`, labelled ``app.kubernetes.io/managed-by: stockade`` and
named ``<name_prefix>-<namespace>`` / ``<name_prefix>-cluster``. A writer owns the reports that carry
the label and the name its prefix gives in their namespace, so two Stockade deployments with
different prefixes leave each other's reports alone, as they do reports of other tools and a
same-named report without the label. Each sync creates what is missing, replaces what changed
(results and summary compared without their timestamps, so an unchanged report is not
rewritten), and deletes the reports it owns for namespaces that no longer have results. A 409
(someone wrote the report meanwhile) is retried on the fresh copy; a missing CRD or permission
is reported, never raised.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import urllib3
from kubernetes import client as k8s_client
from kubernetes.client.exceptions import ApiException

from stockade.model.result import ScanResult
from stockade.report import ReportContext
from stockade.report.policyreport_report import API_VERSION, SOURCE, documents, report_name

log = logging.getLogger("stockade.watch")

GROUP, VERSION = API_VERSION.split("/")
MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED = f"{MANAGED_BY}={SOURCE}"
_PREFIX = re.compile(r"[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?")
_PLURAL = {"PolicyReport": "policyreports", "ClusterPolicyReport": "clusterpolicyreports"}
Key = tuple[str, str | None, str]  # (kind, namespace, name)


@dataclass(slots=True)
class WriteSummary:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


class PolicyReportWriter:
    """Keeps the cluster's PolicyReports of one Stockade deployment in step with its findings."""

    def __init__(
        self,
        api_client: Any,
        *,
        name_prefix: str = SOURCE,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        if not _PREFIX.fullmatch(name_prefix):
            raise ValueError(
                f"PolicyReport name prefix {name_prefix!r}: lower-case letters, digits and '-', at most 40 characters"
            )
        self.api = k8s_client.CustomObjectsApi(api_client)
        self.name_prefix = name_prefix
        self.clock = clock
        self._problem: str | None = None

    def sync(self, result: ScanResult) -> WriteSummary:
        """Make the cluster's Stockade reports say what ``result`` says."""
        summary = WriteSummary()
        stamp = self.clock().isoformat().replace("+00:00", "Z")
        wanted: dict[Key, dict[str, Any]] = {}
        for doc in documents(ReportContext(result=result, generated_at=stamp), name_prefix=self.name_prefix):
            meta = doc["metadata"]
            wanted[(doc["kind"], meta.get("namespace"), meta["name"])] = doc
        try:
            existing = self._owned()
        except ApiException as error:
            summary.errors.append(self._explain(error, "list"))
            return self._said(summary)
        except (urllib3.exceptions.HTTPError, OSError) as error:
            summary.errors.append(f"cannot reach the API server to write PolicyReports: {error}")
            return self._said(summary)
        for key, doc in wanted.items():
            try:
                self._put(key, doc, existing.get(key), summary)
            except ApiException as error:
                summary.errors.append(self._explain(error, "write"))
        for key in existing.keys() - wanted.keys():
            try:
                self._delete(key)
                summary.deleted += 1
            except ApiException as error:
                if error.status != 404:
                    summary.errors.append(self._explain(error, "delete"))
        return self._said(summary)

    def _owned(self) -> dict[Key, dict[str, Any]]:
        found: dict[Key, dict[str, Any]] = {}
        for kind, plural in _PLURAL.items():
            listed: Any = self.api.list_cluster_custom_object(GROUP, VERSION, plural, label_selector=MANAGED)
            for item in listed.get("items") or []:
                meta = item.get("metadata") or {}
                namespace = meta.get("namespace") if kind == "PolicyReport" else None
                if meta.get("name") == report_name(namespace, self.name_prefix):
                    found[(kind, namespace, str(meta.get("name")))] = item
        return found

    def _put(self, key: Key, doc: dict[str, Any], current: dict[str, Any] | None, summary: WriteSummary) -> None:
        kind, namespace, name = key
        for _ in range(3):  # a 409 means someone wrote it meanwhile: compare with their copy
            if current is None:
                try:
                    self._create(kind, namespace, doc)
                    summary.created += 1
                    return
                except ApiException as error:
                    if error.status != 409:
                        raise
                    current = self._get(kind, namespace, name)
                    continue
            if not _managed(current):
                where = f"{namespace}/{name}" if namespace else name
                summary.errors.append(f"{kind} {where} exists and is not managed by Stockade: left alone")
                return
            if _content(current) == _content(doc):
                summary.unchanged += 1
                return
            replacement = {
                **doc,
                "metadata": {**doc["metadata"], "resourceVersion": current["metadata"]["resourceVersion"]},
            }
            try:
                self._replace(kind, namespace, name, replacement)
                summary.updated += 1
                return
            except ApiException as error:
                if error.status != 409:
                    raise
                current = self._get(kind, namespace, name)
        summary.errors.append(f"{kind} {name}: changed by someone else three times in a row; tried again next sync")

    def _create(self, kind: str, namespace: str | None, doc: dict[str, Any]) -> None:
        if namespace is None:
            self.api.create_cluster_custom_object(GROUP, VERSION, _PLURAL[kind], doc)
        else:
            self.api.create_namespaced_custom_object(GROUP, VERSION, namespace, _PLURAL[kind], doc)

    def _get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        got: Any
        try:
            if namespace is None:
                got = self.api.get_cluster_custom_object(GROUP, VERSION, _PLURAL[kind], name)
            else:
                got = self.api.get_namespaced_custom_object(GROUP, VERSION, namespace, _PLURAL[kind], name)
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        return dict(got) if isinstance(got, dict) else None

    def _replace(self, kind: str, namespace: str | None, name: str, doc: dict[str, Any]) -> None:
        if namespace is None:
            self.api.replace_cluster_custom_object(GROUP, VERSION, _PLURAL[kind], name, doc)
        else:
            self.api.replace_namespaced_custom_object(GROUP, VERSION, namespace, _PLURAL[kind], name, doc)

    def _delete(self, key: Key) -> None:
        kind, namespace, name = key
        if namespace is None:
            self.api.delete_cluster_custom_object(GROUP, VERSION, _PLURAL[kind], name)
        else:
            self.api.delete_namespaced_custom_object(GROUP, VERSION, namespace, _PLURAL[kind], name)

    @staticmethod
    def _explain(error: ApiException, action: str) -> str:
        if error.status == 404 and action == "list":
            return f"the PolicyReport CRD ({API_VERSION}) is not installed: no reports written"
        if error.status == 403:
            return (
                f"cannot {action} PolicyReports (missing RBAC: get, list, create, update and delete on"
                f' policyreports and clusterpolicyreports in API group "{GROUP}")'
            )
        return f"cannot {action} PolicyReports: HTTP {error.status}: {error.reason}"

    def _said(self, summary: WriteSummary) -> WriteSummary:
        problem = "; ".join(summary.errors) or None
        if problem is not None and problem != self._problem:
            log.warning("%s", problem)
        elif problem is None and self._problem is not None:
            log.info("PolicyReports are written again")
        self._problem = problem
        return summary


def _managed(doc: dict[str, Any]) -> bool:
    labels = (doc.get("metadata") or {}).get("labels") or {}
    return isinstance(labels, dict) and labels.get(MANAGED_BY) == SOURCE


def _content(doc: dict[str, Any]) -> tuple[Any, Any, Any]:
    """What a report says, without when it said it."""
    results = [{k: v for k, v in r.items() if k != "timestamp"} for r in doc.get("results") or []]
    labels = (doc.get("metadata") or {}).get("labels")
    return doc.get("summary"), results, labels
