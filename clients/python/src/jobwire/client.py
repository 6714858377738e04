"""The blocking client: every RPC over one multiplexed connection, safe to share between threads."""
from __future__ import annotations

import queue
import time
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import TypeVar

from . import _rpc
from ._connection import Connection, QueueSink
from ._core import HelloOptions
from ._jobs_watch import JobsWatchState
from ._manager import ConnectionManager
from ._policy import Backoff, Deadline, deadline_exceeded, unary_retry_delay
from ._rpc import CallSpec, ListFilter, ListOrder, Update
from ._tls import TLSOptions
from ._version import DEFAULT_CLIENT_NAME
from ._watch import Reconnects, WatchState
from ._watch_stream import WatchStream
from ._worker_logic import claim_lost
from .errors import JobWireError, error_from_status
from .models import (BatchResult, ConfigureResult, Health, Job, JobError, JobOrder, JobPage, JobResult, JobsEvent,
                     JobSpec, JobStatus, ServerInfo, Stats, Usage, WatchEvent)
from .webhooks import WebhookDelivery, WebhookEndpoint, WebhookSecret
from .worker import Worker

T = TypeVar("T")


class Client:
    """A JobWire client (blocking). Thread-safe: calls and watches from many threads share one connection.

    Nothing connects until the first call (or :meth:`connect`). When the
    connection drops or the server drains, the next call opens a new one,
    waiting with backoff until its deadline if the server is away.

    Args:
        host: the server's host name or address.
        port: the server's port.
        api_key: the API key (``jwk_…``); None for a server without keys.
        timeout: default deadline of each call in seconds (connecting included);
            None for no deadline. Every method takes its own ``timeout`` too.
        tenant: admin keys only: the tenant every call acts for.
        client_name: sent in Hello, for the server's logs.
        connect_timeout: longest a single TCP connect plus handshake may take.
        max_frame_bytes: the largest frame this client accepts (0: 4 MiB).
        backoff: spacing of reconnection attempts.
        retry_rate_limited: wait ``retry_after`` and send again when a call is
            ``RATE_LIMITED`` and its deadline leaves room (the server refuses such
            calls before doing anything, so this is safe for every method).
        tls: speak TLS (``TLSOptions(jobwire.tls_context(ca_file=...))``; with a client
            certificate for mutual TLS); None for plaintext.
        fallbacks: other nodes serving the same jobs, as ``(host, port)`` pairs: when ``host:port`` cannot be
            reached or its connection drops, the client moves to the next at once (watches resume there) and
            backs off only once every node has failed in a row.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 7420, api_key: str | None = None,
                 timeout: float | None = 30.0, *, tenant: str | None = None,
                 client_name: str = DEFAULT_CLIENT_NAME, connect_timeout: float = 5.0, max_frame_bytes: int = 0,
                 backoff: Backoff | None = None, retry_rate_limited: bool = True,
                 tls: TLSOptions | None = None, fallbacks: Sequence[tuple[str, int]] = ()) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.tenant = tenant or ""
        self.backoff = backoff or Backoff()
        self.retry_rate_limited = retry_rate_limited
        hello = HelloOptions(api_key=api_key or "", client_name=client_name, max_frame_bytes=max_frame_bytes)
        self._manager = ConnectionManager(host, port, hello, connect_timeout, self.backoff, tls, fallbacks)

    # Connection.

    def connect(self, timeout: float | None = None) -> ServerInfo:
        """Connects now (instead of on the first call); returns the server's HelloAck."""
        connection = self._manager.get(self._deadline(timeout))
        info = connection.server_info
        assert info is not None
        return info

    @property
    def server_info(self) -> ServerInfo | None:
        """The HelloAck of the current connection: limits, and the key's tenant and role."""
        return self._manager.server_info

    @property
    def connections_opened(self) -> int:
        """How many connections this client has opened (one until a drop or GoAway)."""
        return self._manager.connections_opened

    def close(self) -> None:
        """Closes the connection. Calls still waiting raise ``Cancelled`` (an update or delete whose outcome is
        unknown: ``Unavailable`` / ``CONNECTION_LOST``); so do later calls."""
        self._manager.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    # RPCs.

    def configure(self, spec: JobSpec | None = None, *, request_id: str = "", lease: float | None = None,
                  timeout: float | None = None) -> ConfigureResult:
        """Creates a job (Configure) in status PENDING.

        Args:
            spec: type, labels, priority and stream fields of the job.
            request_id: idempotency key (at most 128 bytes): repeating the call
                with the same id and job returns the first job (``created`` False);
                with a different job it raises ``AlreadyExists`` / ``REQUEST_ID_REUSED``.
            lease: when set, the caller is the job's worker and holds a lease of this many seconds.
        """
        return self._unary(_rpc.configure(spec or JobSpec(), request_id, lease), timeout)

    def get_metadata(self, job_id: str, *, log_tail: int = 0, timeout: float | None = None) -> Job:
        """One job (GetMetadata), with its last `log_tail` log lines (at most 10,000)."""
        return self._unary(_rpc.get_metadata(job_id, log_tail), timeout)

    def batch_get_metadata(self, job_ids: Sequence[str], *, log_tail: int = 0,
                           timeout: float | None = None) -> list[BatchResult]:
        """Up to 1,000 jobs at once: one result per id, in order, each the job or its error."""
        return self._unary(_rpc.batch_get_metadata(job_ids, log_tail), timeout)

    def list_page(self, *, statuses: Iterable[JobStatus] = (), type: str = "", labels: Mapping[str, str] | None = None,
                  created_after_ms: int = 0, created_before_ms: int = 0, priority: tuple[int, int] | None = None,
                  query: str = "", order_by: JobOrder = JobOrder.CREATED, ascending: bool = False,
                  page_size: int = 0, page_token: str = "", timeout: float | None = None) -> JobPage:
        """One page of ListJobs: the caller's jobs matching every filter given, newest first by default.

        ``query`` keeps the jobs whose type, current task or a label value
        contains it (ignoring ASCII case) or whose id starts with it (at most
        256 bytes). ``order_by`` with ``ascending`` False puts the newest, the
        latest changed or the highest priority first; ties go by creation.
        ``page_size`` 0 means 100 (at most 500). Pass the previous page's
        ``next_page_token`` with the same filters and order for the next page.
        """
        filters = ListFilter(tuple(statuses), type, labels, created_after_ms, created_before_ms, priority, query)
        return self._unary(_rpc.list_jobs(filters, ListOrder(order_by, ascending), page_size, page_token), timeout)

    def list_jobs(self, *, statuses: Iterable[JobStatus] = (), type: str = "", labels: Mapping[str, str] | None = None,
                  created_after_ms: int = 0, created_before_ms: int = 0, priority: tuple[int, int] | None = None,
                  query: str = "", order_by: JobOrder = JobOrder.CREATED, ascending: bool = False,
                  page_size: int = 0, timeout: float | None = None) -> Iterator[Job]:
        """Every job matching the filters, in the order of :meth:`list_page`, fetching pages as it is consumed."""
        filters = ListFilter(tuple(statuses), type, labels, created_after_ms, created_before_ms, priority, query)
        order = ListOrder(order_by, ascending)
        token = ""
        while True:
            page = self._unary(_rpc.list_jobs(filters, order, page_size, token), timeout)
            yield from page.jobs
            token = page.next_page_token
            if not token:
                return

    def watch(self, job_id: str, *, after_revision: int = 0, log_tail: int = 0, timeout: float | None = None,
              include_bookmarks: bool = False,
              reconnect_timeout: float | None = None) -> Generator[WatchEvent, None, None]:
        """Follows a job: a generator of :class:`WatchEvent` that ends after the event with a terminal status.

        ``after_revision`` 0 starts with a SNAPSHOT; R > 0 yields every change
        after R. When the connection drops, the server drains or restarts, the
        generator reconnects with backoff and resumes after the last revision
        it yielded: no duplicate, no gap. When the server no longer has that
        part of the history it yields a RESYNC event carrying the current job.

        Args:
            log_tail: log lines to include in the first SNAPSHOT or RESYNC.
            timeout: deadline of the whole watch in seconds (None: none).
            include_bookmarks: also yield the server's idle BOOKMARK events.
            reconnect_timeout: give up (raising the last error) after trying to
                resume for this many seconds without success; None: never.

        Raises ``NotFound`` (unknown job, or ``JOB_DELETED`` when the job is
        deleted while watched) and any other non-retryable error. Closing the
        generator (or breaking out of the loop) cancels the call on the wire.
        """
        stream = self._watch_stream(job_id, after_revision=after_revision, log_tail=log_tail, timeout=timeout,
                                    include_bookmarks=include_bookmarks, reconnect_timeout=reconnect_timeout)
        try:
            while (event := stream.next()) is not None:
                yield event
        finally:
            stream.cancel()

    def watch_jobs(self, *, statuses: Iterable[JobStatus] = (), type: str = "", labels: Mapping[str, str] | None = None,
                   created_after_ms: int = 0, created_before_ms: int = 0, priority: tuple[int, int] | None = None,
                   query: str = "", page_size: int = 0, cursor: str = "", timeout: float | None = None,
                   reconnect_timeout: float | None = None) -> Generator[JobsEvent, None, None]:
        """Follows every job of the tenant matching the filters: a generator of :class:`JobsEvent` that does not end.

        The filters are those of :meth:`list_jobs`. Without a ``cursor`` it
        yields the matching jobs first (SNAPSHOT events of up to ``page_size``
        jobs, 0 meaning 100, at most 500), then SYNCED, then each change:
        ENTERED, CHANGED, LEFT. With the ``cursor`` of the last event you
        processed it yields what changed since (CHANGED or LEFT), then SYNCED;
        when the server cannot resume from it, RESYNC (forget every job) and a
        new snapshot. Idle watches get BOOKMARK events, whose cursor is a point
        to resume from. :class:`~jobwire.JobsView` turns the events into the
        current set of jobs.

        When the connection drops or the server drains or restarts, the
        generator reconnects with backoff and resumes after the cursor of the
        last event it yielded, as :meth:`watch` does with revisions: no gap, no
        duplicate. When the connection is read too slowly, the server catches
        it up with the latest state of each changed job (intermediate states
        may be skipped, the latest never); events the connection delivered but
        the loop has not taken yet wait in memory.

        Args:
            timeout: deadline of the whole watch in seconds (None: none).
            reconnect_timeout: give up (raising the last error) after trying to
                resume for this many seconds without success; None: never.

        Raises ``InvalidArgument`` (``INVALID_CURSOR``, a bad filter),
        ``PermissionDenied``, ``ResourceExhausted`` / ``TOO_MANY_WATCHES`` and
        any other non-retryable error. Closing the generator (or breaking out
        of the loop) cancels the call on the wire.
        """
        filters = ListFilter(tuple(statuses), type, labels, created_after_ms, created_before_ms, priority, query)
        stream = WatchStream(self._manager, self.tenant, JobsWatchState(filters, page_size, cursor),
                             Reconnects(self.backoff, reconnect_timeout), timeout)
        try:
            while (event := stream.next()) is not None:
                yield event
        finally:
            stream.cancel()

    def cancel(self, job_id: str, *, reason: str = "", timeout: float | None = None) -> Job:
        """Asks a job to stop (best-effort, idempotent): CANCELLING while a worker holds a lease, else CANCELLED."""
        return self._unary(_rpc.cancel(job_id, reason), timeout)

    def update(self, job_id: str, *, status: JobStatus | None = None, progress: float | None = None,
               current_task: str | None = None, eta_seconds: float | None = None, log_lines: Iterable[str] = (),
               result: JobResult | None = None, error: JobError | None = None, lease: float | None = None,
               expected_revision: int = 0, timeout: float | None = None) -> Job:
        """The worker's report (UpdateJob); each argument given is applied. Returns the job after it.

        ``eta_seconds`` < 0 clears the ETA; ``result`` goes with COMPLETED only,
        ``error`` with FAILED only; ``lease`` takes or renews the worker lease
        (seconds); ``expected_revision`` makes the update conditional
        (``Aborted`` / ``REVISION_MISMATCH``). Not retried after a dropped
        connection, since it may have been applied.
        """
        fields = Update(status, progress, current_task, eta_seconds, tuple(log_lines), result, error, lease,
                        expected_revision)
        return self._update(job_id, fields, timeout)

    def retry(self, job_id: str, *, expected_revision: int = 0, timeout: float | None = None) -> Job:
        """Starts a FAILED or CANCELLED job again (Retry): PENDING under the same id, ``attempt`` one higher.

        Type, labels, priority and stream endpoint stay; progress, task, ETA,
        result, error, cancel reason, lease and expiry are cleared, the attempt
        that ended is kept in ``previous_attempts``, and the revision goes on.
        Raises ``FailedPrecondition`` / ``NOT_RETRYABLE`` for any other status
        (COMPLETED is final) and ``FailedPrecondition`` / ``STREAM_PORT_IN_USE``
        when the job's pooled stream port was taken meanwhile. Not resent after
        a dropped connection, since it may have been applied.
        """
        return self._unary(_rpc.retry(job_id, expected_revision), timeout)

    def set_priority(self, job_id: str, priority: int, *, expected_revision: int = 0,
                     timeout: float | None = None) -> Job:
        """Changes the priority of a job that has not ended (SetPriority); returns the job after it.

        The same priority again changes nothing (no new revision). Raises
        ``FailedPrecondition`` / ``JOB_TERMINAL`` once the job ended;
        ``expected_revision`` makes it conditional (``Aborted`` / ``REVISION_MISMATCH``).
        """
        return self._unary(_rpc.set_priority(job_id, priority, expected_revision), timeout)

    def delete(self, job_id: str, *, timeout: float | None = None) -> int:
        """Forgets a job (DeleteJob); returns its revision when it was deleted."""
        return self._unary(_rpc.delete(job_id), timeout)

    def health(self, *, detailed: bool = False, timeout: float | None = None) -> Health:
        """The server's serving status, store and version; with ``detailed``, each component's state too."""
        return self._unary(_rpc.health(detailed), timeout)

    def stats(self, tenant: str = "", *, created_after_ms: int = 0, created_before_ms: int = 0,
              timeout: float | None = None) -> Stats:
        """The tenant's jobs in numbers, and (admin keys) connections, streams, per-method latency.

        The job figures count only jobs created at or after
        ``created_after_ms`` and before ``created_before_ms`` (0: no bound).
        ``tenant`` (admin keys) names another tenant.
        """
        return self._unary(_rpc.stats(tenant, created_after_ms, created_before_ms), timeout)

    def usage(self, tenant: str = "", *, timeout: float | None = None) -> Usage:
        """What each API key of the tenant did since the server started: calls and errors by method, bytes.

        ``tenant`` (admin keys) names another tenant; "" is the caller's own.
        """
        return self._unary(_rpc.usage(tenant), timeout)

    # Webhooks (docs/WEBHOOKS.md).

    def create_webhook(self, url: str, *, events: Iterable[str] = (), labels: Mapping[str, str] | None = None,
                       timeout: float | None = None) -> WebhookSecret:
        """Adds a webhook endpoint to the caller's tenant (CreateWebhook); returns it with its secret, shown this once.

        jobwired POSTs to `url` (http or https) each change of the tenant's jobs
        whose type is in ``events`` (``job.created``, ``job.completed``,
        ``job.failed``, ``job.cancelled``, ``job.retried``, ``job.progress``;
        empty for every type) and whose labels include all of ``labels``,
        signed with the secret by the Standard Webhooks scheme. Raises
        ``InvalidArgument`` (``INVALID_WEBHOOK_URL``,
        ``WEBHOOK_ADDRESS_NOT_ALLOWED`` for loopback, private and metadata
        addresses unless the server allows them, ``UNKNOWN_EVENT_TYPE``),
        ``ResourceExhausted`` / ``TOO_MANY_WEBHOOKS``, and ``PermissionDenied``
        below a ``client`` key. Not resent after a dropped connection, since it
        may have been applied.
        """
        return self._unary(_rpc.create_webhook(url, events, labels), timeout)

    def list_webhooks(self, *, timeout: float | None = None) -> list[WebhookEndpoint]:
        """The tenant's webhook endpoints (ListWebhooks), in creation order, without their secrets."""
        return self._unary(_rpc.list_webhooks(), timeout)

    def get_webhook(self, endpoint_id: str, *, timeout: float | None = None) -> WebhookEndpoint:
        """One webhook endpoint (GetWebhook), with whether, since when and why it is disabled or failing.

        Raises ``NotFound`` / ``WEBHOOK_NOT_FOUND`` for an unknown id (another tenant's endpoint reads as unknown).
        """
        return self._unary(_rpc.get_webhook(endpoint_id), timeout)

    def delete_webhook(self, endpoint_id: str, *, timeout: float | None = None) -> None:
        """Deletes a webhook endpoint and its pending messages (DeleteWebhook); nothing more is sent to it.

        Raises ``NotFound`` / ``WEBHOOK_NOT_FOUND``. Not resent after a dropped
        connection (a repeat of a delete that worked would raise ``NotFound``).
        """
        self._unary(_rpc.delete_webhook(endpoint_id), timeout)

    def rotate_webhook_secret(self, endpoint_id: str, *, overlap: float | None = None,
                              timeout: float | None = None) -> WebhookSecret:
        """Makes a new secret for an endpoint (RotateWebhookSecret); returns it, shown this once.

        For ``overlap`` seconds (None: the server's default, 24 hours; 0: none;
        at most 7 days) every message is signed with the previous secret too,
        until the endpoint's ``previous_secret_expires_at_ms``, so receivers
        switch without a gap. Not resent after a dropped connection: a second
        rotation would replace the secret answered first.
        """
        return self._unary(_rpc.rotate_webhook_secret(endpoint_id, overlap), timeout)

    def webhook_deliveries(self, endpoint_id: str, *, limit: int = 50,
                           timeout: float | None = None) -> list[WebhookDelivery]:
        """The endpoint's latest messages (ListWebhookDeliveries), newest first, each with every attempt.

        At most ``limit`` (1 to 500) messages; delivered and given-up ones are
        kept for the server's ``--webhook-delivery-retention``. A server with
        the memory store keeps no history.
        """
        return self._unary(_rpc.webhook_deliveries(endpoint_id, limit), timeout)

    def redeliver_webhook(self, message_id: str, *, endpoint_id: str = "",
                          timeout: float | None = None) -> WebhookDelivery:
        """Sends a delivered or given-up message again, now, with the same ``webhook-id`` (RedeliverWebhook).

        Returns the message, PENDING, without its attempts. ``endpoint_id`` ""
        finds the endpoint by the message. Raises ``NotFound`` /
        ``DELIVERY_NOT_FOUND``, ``FailedPrecondition`` / ``DELIVERY_PENDING``
        while the message is still on its way, ``FailedPrecondition`` /
        ``WEBHOOK_DISABLED`` for a disabled endpoint. Not resent after a
        dropped connection.
        """
        return self._unary(_rpc.redeliver_webhook(message_id, endpoint_id), timeout)

    # Workers.

    def worker(self, job_id: str, *, lease: float = 30.0, heartbeat_interval: float | None = None) -> Worker:
        """A :class:`~jobwire.worker.Worker` for `job_id`, to use as ``with client.worker(id) as w:``."""
        return Worker(self, job_id, lease, heartbeat_interval)

    # Worker pools.

    def claim(self, job_id: str, *, revision: int, lease: float = 30.0, timeout: float | None = None) -> Job:
        """Claims a PENDING job seen at `revision` (UpdateJob: RUNNING with a lease of `lease` seconds, conditional).

        Of several workers claiming the job at the same revision exactly one
        gets it; the others raise ``Aborted`` / ``REVISION_MISMATCH`` (or
        ``FailedPrecondition`` when the job has moved on already). The winner
        keeps the lease alive with :meth:`update`; :meth:`claim_worker` does that
        for it.
        """
        return self._update(job_id, _rpc.claim_update(revision, lease), timeout)

    def claim_worker(self, job_id: str, *, revision: int, lease: float = 30.0,
                     heartbeat_interval: float | None = None) -> Worker | None:
        """Claims a PENDING job seen at `revision` as :meth:`claim` does, for a ``with`` block.

        Returns the :class:`~jobwire.worker.Worker`, started (lease renewed,
        cancellation watched), or None when another worker was first (the
        losers' errors of :meth:`claim`); any other error raises. Use the
        worker in a ``with`` block at once: leaving it ends the job.
        """
        worker = Worker(self, job_id, lease, heartbeat_interval, claim_revision=revision)
        try:
            worker.start()
        except JobWireError as failure:
            if claim_lost(failure):
                return None
            raise
        return worker

    # The call path.

    def _deadline(self, timeout: float | None) -> Deadline:
        return Deadline(self.timeout if timeout is None else timeout)

    def _update(self, job_id: str, fields: Update, timeout: float | None = None) -> Job:
        return self._unary(_rpc.update(job_id, fields), timeout)

    def _watch_stream(self, job_id: str, *, after_revision: int = 0, log_tail: int = 0, timeout: float | None = None,
                      include_bookmarks: bool = False,
                      reconnect_timeout: float | None = None) -> WatchStream[WatchEvent]:
        state = WatchState(job_id, after_revision, log_tail, include_bookmarks)
        return WatchStream(self._manager, self.tenant, state, Reconnects(self.backoff, reconnect_timeout), timeout)

    def _unary(self, spec: CallSpec[T], timeout: float | None) -> T:
        deadline = self._deadline(timeout)
        attempt = 0
        while True:
            connection = self._manager.get(deadline)
            try:
                return spec.parse(self._call_once(connection, spec, deadline))
            except JobWireError as failure:
                delay = unary_retry_delay(failure, idempotent=spec.idempotent, attempt=attempt, backoff=self.backoff,
                                          retry_rate_limited=self.retry_rate_limited, deadline=deadline)
                if delay is None:
                    raise
                attempt += 1
                time.sleep(delay)

    def _call_once(self, connection: Connection, spec: CallSpec[T], deadline: Deadline) -> bytes:
        sink = QueueSink()
        stream_id = connection.start_call(spec.method, spec.request, deadline.timeout_ms(), self.tenant, sink,
                                          deadline.at)
        reply = b""
        try:
            while True:
                try:
                    _, payload = sink.items.get(timeout=deadline.local_wait())
                except queue.Empty:
                    raise deadline_exceeded(spec.method) from None
                if isinstance(payload, bytes):
                    reply = payload
                elif payload.ok:
                    return reply
                else:
                    raise error_from_status(payload)
        finally:
            # Gives up on the call on the wire when it has not ended (deadline, KeyboardInterrupt, …).
            connection.cancel(stream_id)
