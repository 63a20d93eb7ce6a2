"""``/metrics``: the queue and this web process in Prometheus's text format (prometheus-client),
behind the operator's key. docs/operator.md says what each metric means and how to scrape it.

Gauges are read from the operator's overview (``QueueWatch``) when scraped. The
counters and histograms of ended jobs count what this process saw end: the jobs
that had ended before its first look are the baseline and are not counted, so a
restart does not count them twice. A continued job counts again when its new
segment ends. Kinds this program does not know share the label ``other``.
"""

from __future__ import annotations

import threading
from collections import Counter as Tally
from collections import defaultdict

from flask import Blueprint, Response, current_app, request
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.process_collector import ProcessCollector

from drivequeue.errors import StoreUnavailable
from drivequeue.overview import UNREADABLE, Overview

from .operator_access import require_operator
from .queue_watch import QueueWatch

bp = Blueprint("metrics", __name__)

#: a story takes seconds to minutes, training hours
DURATION_BUCKETS = (1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 12 * 3600)
#: a job waits for a worker from a moment to hours (six hours: ``max_queue_wait``)
WAIT_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 6 * 3600)
ENDED = {"done": "drivequeue_jobs_finished", "failed": "drivequeue_jobs_failed",
         "cancelled": "drivequeue_jobs_cancelled"}


class QueueMetrics:
    """The registry one app's ``/metrics`` serves; ``counted`` takes every new overview."""

    def __init__(self, queue, stream_slots) -> None:
        self.known_kinds = set(queue.kinds)
        self.store = queue.store
        self.stream_slots = stream_slots
        self.registry = CollectorRegistry()
        self.latest: Overview | None = None
        self.readable = False
        self._seen: set[tuple[str, int]] | None = None  # None until the first look, the baseline
        self._lock = threading.Lock()
        self.ended = {state: Counter(name, f"Jobs whose newest segment ended {state}, seen by this process",
                                     ["kind"], registry=self.registry) for state, name in ENDED.items()}
        self.duration = Histogram("drivequeue_job_duration_seconds",
                                  "From a segment's first claim to its end (the worker's clock)",
                                  ["kind"], buckets=DURATION_BUCKETS, registry=self.registry)
        self.wait = Histogram("drivequeue_job_queue_wait_seconds",
                              "From a segment's request to its first claim", ["kind"], buckets=WAIT_BUCKETS,
                              registry=self.registry)
        for kind in self.known_kinds:  # every known kind's series exists from the start, at 0
            for metric in (*self.ended.values(), self.duration, self.wait):
                metric.labels(kind)
        self.registry.register(_QueueCollector(self))
        ProcessCollector(registry=self.registry)

    def label(self, kind: str) -> str:
        """A bounded label for ``kind``: its name if this program knows it."""
        if kind in self.known_kinds:
            return kind
        return "unreadable" if kind == UNREADABLE else "other"

    def counted(self, overview: Overview) -> None:
        """Count the jobs that ended since the last overview."""
        with self._lock:
            self.latest = overview
            seen = {(job.key, job.segment) for job in overview.ended}
            for job in overview.ended if self._seen is not None else ():
                if (job.key, job.segment) in self._seen:
                    continue
                kind = self.label(job.kind)
                self.ended[job.state].labels(kind).inc()
                if job.started is not None:  # clocks of two machines: never below 0
                    self.wait.labels(kind).observe(max(0.0, job.started - job.queued))
                    self.duration.labels(kind).observe(max(0.0, job.ended - job.started))
            self._seen = seen

    def exposition(self, watch: QueueWatch, accept: str) -> tuple[bytes, str]:
        """What a scrape gets (in the format ``accept`` asks for: Prometheus's text, or
        OpenMetrics) and its content type, after a look at the queue if the last one is old."""
        try:
            watch.look()
            self.readable = True
        except StoreUnavailable:
            self.readable = False
        encode, content_type = choose_encoder(accept)
        return encode(self.registry), content_type


class _QueueCollector:
    """The gauges of the latest overview, and this process's store calls and event streams."""

    def __init__(self, metrics: QueueMetrics) -> None:
        self.metrics = metrics

    def collect(self):
        metrics = self.metrics
        yield GaugeMetricFamily("webapp_event_streams_open", "Event streams this process serves now",
                                value=metrics.stream_slots.open)
        yield GaugeMetricFamily("drivequeue_store_up", "1 if this process's last look at the queue worked",
                                value=1 if metrics.readable else 0)
        yield from self._store_calls()
        overview = metrics.latest
        if not metrics.readable or overview is None:
            return
        jobs = GaugeMetricFamily("drivequeue_jobs", "Jobs in the queue by kind and state", labels=["kind", "state"])
        for (kind, state), count in _summed((metrics.label(kind), state, count)
                                            for kind, states in overview.counts.items()
                                            for state, count in states.items()):
            jobs.add_metric([kind, state], count)
        yield jobs
        waiting = GaugeMetricFamily("drivequeue_jobs_waiting_for_worker",
                                    "Queued jobs that no online worker serves", labels=["kind"])
        for (kind,), count in _summed((metrics.label(job.kind), 1) for job in overview.waiting):
            waiting.add_metric([kind], count)
        yield waiting
        yield GaugeMetricFamily("drivequeue_workers_online", "Workers whose heartbeat is alive",
                                value=overview.online)
        online = [worker for worker in overview.workers if worker.get("online")]
        rates = GaugeMetricFamily("drivequeue_workers_lines_per_minute",
                                  "Lines a minute written by the online workers, as they report it",
                                  labels=["kind"])
        for (kind,), rate in _summed((metrics.label(kind), counts.get("lines_per_minute", 0))
                                     for worker in online
                                     for kind, counts in worker["report"].get("kinds", {}).items()):
            rates.add_metric([kind], rate)
        yield rates
        for name, what in (("memory_used", "in use"), ("memory_free", "free")):
            yield GaugeMetricFamily(f"drivequeue_workers_gpu_{name}_bytes",
                                    f"GPU memory {what} on the online workers' devices, as they report it",
                                    value=sum(worker["report"].get("device", {}).get(name, 0) for worker in online))

    def _store_calls(self):
        store = self.metrics.store
        for attribute, name, help_text in (
                ("operations", "drivequeue_store_calls", "Store operations this process made"),
                ("failures", "drivequeue_store_errors", "Store operations of this process that failed")):
            counts = getattr(store, attribute, None)
            if isinstance(counts, Tally):
                family = CounterMetricFamily(name, help_text, labels=["operation"])
                for operation, count in sorted(counts.items()):
                    family.add_metric([operation], count)
                yield family
        calls = getattr(store, "calls", None)
        if isinstance(calls, Tally):  # the Drive store: requests to the API, retries included
            family = CounterMetricFamily("drivequeue_drive_api_calls", "Google Drive API requests of this process",
                                         labels=["method"])
            for method, count in sorted(calls.items()):
                family.add_metric([method], count)
            yield family


def _summed(rows) -> list[tuple[tuple[str, ...], float]]:
    """Rows of labels and a value, with the values of equal labels added up."""
    totals: dict[tuple[str, ...], float] = defaultdict(float)
    for *labels, value in rows:
        totals[tuple(labels)] += value
    return sorted(totals.items())


@bp.get("/metrics")
def metrics():
    """The metrics in Prometheus's text format (the operator's key)."""
    require_operator(current_app.extensions["webapp_config"])
    body, content_type = current_app.extensions["queue_metrics"].exposition(
        current_app.extensions["queue_watch"], request.headers.get("Accept", ""))
    return Response(body, content_type=content_type)
