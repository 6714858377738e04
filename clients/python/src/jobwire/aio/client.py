"""The asyncio client: the API of :class:`jobwire.Client`, with ``async`` methods."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Mapping, Sequence
from types import TracebackType
from typing import TypeVar

from .. import _rpc
from .._core import HelloOptions
from .._jobs_watch import JobsWatchState
from .._policy import Backoff, Deadline, deadline_exceeded, unary_retry_delay
from .._rpc import CallSpec, ListFilter, ListOrder, Update
from .._tls import TLSOptions
from .._version import DEFAULT_CLIENT_NAME
from .._watch import Reconnects, WatchState
from .._worker_logic import claim_lost
from ..errors import JobWireError, error_from_status
from ..models import (BatchResult, ConfigureResult, Health, Job, JobError, JobOrder, JobPage, JobResult, JobsEvent,
                      JobSpec, JobStatus, ServerInfo, Stats, Usage, WatchEvent)
from ..webhooks import WebhookDelivery, WebhookEndpoint, WebhookSecret
from ._connection import AsyncQueueSink, Connection
from ._manager import ConnectionManager
from ._watch_stream import WatchStream
from .worker import Worker

T = TypeVar("T")


class Client:
    """A JobWire client for asyncio; calls and watches from many tasks share one connection.

    The arguments and behaviour are those of :class:`jobwire.Client`. Use it
    from one event loop. Cancelling a task that awaits a call (or closing a
    watch's async generator) sends ``CancelCall`` for it.
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

    async def connect(self, timeout: float | None = None) -> ServerInfo:
        """Connects now; returns the server's HelloAck."""
        connection = await self._manager.get(self._deadline(timeout))
        info = connection.server_info
        assert info is not None
        return info

    @property
    def server_info(self) -> ServerInfo | None:
        """The HelloAck of the current connection."""
        return self._manager.server_info

    @property
    def connections_opened(self) -> int:
        """How many connections this client has opened."""
        return self._manager.connections_opened

    async def close(self) -> None:
        """Closes the connection; calls still waiting and later calls raise as in :meth:`jobwire.Client.close`."""
        self._manager.close()
        await asyncio.sleep(0)  # lets the reader task see its cancellation

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        traceback: TracebackType | None) -> None:
        await self.close()

    # RPCs.

    async def configure(self, spec: JobSpec | None = None, *, request_id: str = "", lease: float | None = None,
                        timeout: float | None = None) -> ConfigureResult:
        """Creates a job (Configure); see :meth:`jobwire.Client.configure`."""
        return await self._unary(_rpc.configure(spec or JobSpec(), request_id, lease), timeout)

    async def get_metadata(self, job_id: str, *, log_tail: int = 0, timeout: float | None = None) -> Job:
        """One job (GetMetadata), with its last `log_tail` log lines."""
        return await self._unary(_rpc.get_metadata(job_id, log_tail), timeout)

    async def batch_get_metadata(self, job_ids: Sequence[str], *, log_tail: int = 0,
                                 timeout: float | None = None) -> list[BatchResult]:
        """Up to 1,000 jobs at once: one result per id, in order."""
        return await self._unary(_rpc.batch_get_metadata(job_ids, log_tail), timeout)

    async def list_page(self, *, statuses: Iterable[JobStatus] = (), type: str = "",
                        labels: Mapping[str, str] | None = None, created_after_ms: int = 0,
                        created_before_ms: int = 0, priority: tuple[int, int] | None = None, query: str = "",
                        order_by: JobOrder = JobOrder.CREATED, ascending: bool = False, page_size: int = 0,
                        page_token: str = "", timeout: float | None = None) -> JobPage:
        """One page of ListJobs; see :meth:`jobwire.Client.list_page`."""
        filters = ListFilter(tuple(statuses), type, labels, created_after_ms, created_before_ms, priority, query)
        return await self._unary(_rpc.list_jobs(filters, ListOrder(order_by, ascending), page_size, page_token),
                                 timeout)

    async def list_jobs(self, *, statuses: Iterable[JobStatus] = (), type: str = "",
                        labels: Mapping[str, str] | None = None, created_after_ms: int = 0,
                        created_before_ms: int = 0, priority: tuple[int, int] | None = None, query: str = "",
                        order_by: JobOrder = JobOrder.CREATED, ascending: bool = False, page_size: int = 0,
                        timeout: float | None = None) -> AsyncIterator[Job]:
        """Every job matching the filters, in the order asked for, as an async iterator over all pages."""
        filters = ListFilter(tuple(statuses), type, labels, created_after_ms, created_before_ms, priority, query)
        order = ListOrder(order_by, ascending)
        token = ""
        while True:
            page = await self._unary(_rpc.list_jobs(filters, order, page_size, token), timeout)
            for job in page.jobs:
                yield job
            token = page.next_page_token
            if not token:
                return

    async def watch(self, job_id: str, *, after_revision: int = 0, log_tail: int = 0, timeout: float | None = None,
                    include_bookmarks: bool = False,
                    reconnect_timeout: float | None = None) -> AsyncGenerator[WatchEvent, None]:
        """Follows a job as an async generator; see :meth:`jobwire.Client.watch`."""
        stream = self._watch_stream(job_id, after_revision=after_revision, log_tail=log_tail, timeout=timeout,
                                    include_bookmarks=include_bookmarks, reconnect_timeout=reconnect_timeout)
        try:
            while (event := await stream.next()) is not None:
                yield event
        finally:
            stream.cancel()

    async def watch_jobs(self, *, statuses: Iterable[JobStatus] = (), type: str = "",
                         labels: Mapping[str, str] | None = None, created_after_ms: int = 0,
                         created_before_ms: int = 0, priority: tuple[int, int] | None = None, query: str = "",
                         page_size: int = 0, cursor: str = "", timeout: float | None = None,
                         reconnect_timeout: float | None = None) -> AsyncGenerator[JobsEvent, None]:
        """Follows every job matching the filters as an async generator that does not end; see
        :meth:`jobwire.Client.watch_jobs`. Closing it (``aclose``, leaving ``async for``) or cancelling the task
        that awaits it cancels the call on the wire."""
        filters = ListFilter(tuple(statuses), type, labels, created_after_ms, created_before_ms, priority, query)
        stream = WatchStream(self._manager, self.tenant, JobsWatchState(filters, page_size, cursor),
                             Reconnects(self.backoff, reconnect_timeout), timeout)
        try:
            while (event := await stream.next()) is not None:
                yield event
        finally:
            stream.cancel()

    async def cancel(self, job_id: str, *, reason: str = "", timeout: float | None = None) -> Job:
        """Asks a job to stop (best-effort, idempotent)."""
        return await self._unary(_rpc.cancel(job_id, reason), timeout)

    async def update(self, job_id: str, *, status: JobStatus | None = None, progress: float | None = None,
                     current_task: str | None = None, eta_seconds: float | None = None,
                     log_lines: Iterable[str] = (), result: JobResult | None = None, error: JobError | None = None,
                     lease: float | None = None, expected_revision: int = 0, timeout: float | None = None) -> Job:
        """The worker's report (UpdateJob); see :meth:`jobwire.Client.update`."""
        fields = Update(status, progress, current_task, eta_seconds, tuple(log_lines), result, error, lease,
                        expected_revision)
        return await self._update(job_id, fields, timeout)

    async def retry(self, job_id: str, *, expected_revision: int = 0, timeout: float | None = None) -> Job:
        """Starts a FAILED or CANCELLED job again as a new attempt (Retry); see :meth:`jobwire.Client.retry`."""
        return await self._unary(_rpc.retry(job_id, expected_revision), timeout)

    async def set_priority(self, job_id: str, priority: int, *, expected_revision: int = 0,
                           timeout: float | None = None) -> Job:
        """Changes the priority of a job that has not ended (SetPriority); see :meth:`jobwire.Client.set_priority`."""
        return await self._unary(_rpc.set_priority(job_id, priority, expected_revision), timeout)

    async def delete(self, job_id: str, *, timeout: float | None = None) -> int:
        """Forgets a job (DeleteJob); returns its revision when it was deleted."""
        return await self._unary(_rpc.delete(job_id), timeout)

    async def health(self, *, detailed: bool = False, timeout: float | None = None) -> Health:
        """The server's serving status, store and version; with ``detailed``, each component's state too."""
        return await self._unary(_rpc.health(detailed), timeout)

    async def stats(self, tenant: str = "", *, created_after_ms: int = 0, created_before_ms: int = 0,
                    timeout: float | None = None) -> Stats:
        """The tenant's jobs in numbers, created in the range given; see :meth:`jobwire.Client.stats`."""
        return await self._unary(_rpc.stats(tenant, created_after_ms, created_before_ms), timeout)

    async def usage(self, tenant: str = "", *, timeout: float | None = None) -> Usage:
        """What each API key of the tenant did since the server started; see :meth:`jobwire.Client.usage`."""
        return await self._unary(_rpc.usage(tenant), timeout)

    # Webhooks (docs/WEBHOOKS.md).

    async def create_webhook(self, url: str, *, events: Iterable[str] = (), labels: Mapping[str, str] | None = None,
                             timeout: float | None = None) -> WebhookSecret:
        """Adds a webhook endpoint; returns it with its secret, shown this once. See
        :meth:`jobwire.Client.create_webhook`."""
        return await self._unary(_rpc.create_webhook(url, events, labels), timeout)

    async def list_webhooks(self, *, timeout: float | None = None) -> list[WebhookEndpoint]:
        """The tenant's webhook endpoints, in creation order, without their secrets."""
        return await self._unary(_rpc.list_webhooks(), timeout)

    async def get_webhook(self, endpoint_id: str, *, timeout: float | None = None) -> WebhookEndpoint:
        """One webhook endpoint; see :meth:`jobwire.Client.get_webhook`."""
        return await self._unary(_rpc.get_webhook(endpoint_id), timeout)

    async def delete_webhook(self, endpoint_id: str, *, timeout: float | None = None) -> None:
        """Deletes a webhook endpoint and its pending messages; see :meth:`jobwire.Client.delete_webhook`."""
        await self._unary(_rpc.delete_webhook(endpoint_id), timeout)

    async def rotate_webhook_secret(self, endpoint_id: str, *, overlap: float | None = None,
                                    timeout: float | None = None) -> WebhookSecret:
        """Makes a new secret, the previous one signing beside it for ``overlap`` seconds; see
        :meth:`jobwire.Client.rotate_webhook_secret`."""
        return await self._unary(_rpc.rotate_webhook_secret(endpoint_id, overlap), timeout)

    async def webhook_deliveries(self, endpoint_id: str, *, limit: int = 50,
                                 timeout: float | None = None) -> list[WebhookDelivery]:
        """The endpoint's latest messages, newest first, with every attempt; see
        :meth:`jobwire.Client.webhook_deliveries`."""
        return await self._unary(_rpc.webhook_deliveries(endpoint_id, limit), timeout)

    async def redeliver_webhook(self, message_id: str, *, endpoint_id: str = "",
                                timeout: float | None = None) -> WebhookDelivery:
        """Sends a delivered or given-up message again with the same ``webhook-id``; see
        :meth:`jobwire.Client.redeliver_webhook`."""
        return await self._unary(_rpc.redeliver_webhook(message_id, endpoint_id), timeout)

    # Workers.

    def worker(self, job_id: str, *, lease: float = 30.0, heartbeat_interval: float | None = None) -> Worker:
        """A :class:`~jobwire.aio.Worker` for `job_id`, to use as ``async with client.worker(id) as w:``."""
        return Worker(self, job_id, lease, heartbeat_interval)

    # Worker pools.

    async def claim(self, job_id: str, *, revision: int, lease: float = 30.0, timeout: float | None = None) -> Job:
        """Claims a PENDING job seen at `revision` (conditional UpdateJob); see :meth:`jobwire.Client.claim`."""
        return await self._update(job_id, _rpc.claim_update(revision, lease), timeout)

    async def claim_worker(self, job_id: str, *, revision: int, lease: float = 30.0,
                           heartbeat_interval: float | None = None) -> Worker | None:
        """The started :class:`~jobwire.aio.Worker` of a claimed job, for ``async with``; None when another worker
        was first. See :meth:`jobwire.Client.claim_worker`."""
        worker = Worker(self, job_id, lease, heartbeat_interval, claim_revision=revision)
        try:
            await worker.start()
        except JobWireError as failure:
            if claim_lost(failure):
                return None
            raise
        return worker

    # The call path.

    def _deadline(self, timeout: float | None) -> Deadline:
        return Deadline(self.timeout if timeout is None else timeout)

    async def _update(self, job_id: str, fields: Update, timeout: float | None = None) -> Job:
        return await self._unary(_rpc.update(job_id, fields), timeout)

    def _watch_stream(self, job_id: str, *, after_revision: int = 0, log_tail: int = 0, timeout: float | None = None,
                      include_bookmarks: bool = False,
                      reconnect_timeout: float | None = None) -> WatchStream[WatchEvent]:
        state = WatchState(job_id, after_revision, log_tail, include_bookmarks)
        return WatchStream(self._manager, self.tenant, state, Reconnects(self.backoff, reconnect_timeout), timeout)

    async def _unary(self, spec: CallSpec[T], timeout: float | None) -> T:
        deadline = self._deadline(timeout)
        attempt = 0
        while True:
            connection = await self._manager.get(deadline)
            try:
                return spec.parse(await self._call_once(connection, spec, deadline))
            except JobWireError as failure:
                delay = unary_retry_delay(failure, idempotent=spec.idempotent, attempt=attempt, backoff=self.backoff,
                                          retry_rate_limited=self.retry_rate_limited, deadline=deadline)
                if delay is None:
                    raise
                attempt += 1
                await asyncio.sleep(delay)

    async def _call_once(self, connection: Connection, spec: CallSpec[T], deadline: Deadline) -> bytes:
        sink = AsyncQueueSink()
        stream_id = await connection.start_call(spec.method, spec.request, deadline.timeout_ms(), self.tenant, sink,
                                                deadline.at)
        reply = b""
        try:
            try:
                async with asyncio.timeout(deadline.local_wait()):
                    while True:
                        _, payload = await sink.items.get()
                        if isinstance(payload, bytes):
                            reply = payload
                        elif payload.ok:
                            return reply
                        else:
                            raise error_from_status(payload)
            except TimeoutError:
                raise deadline_exceeded(spec.method) from None
        finally:
            # Gives up on the call on the wire when it has not ended (deadline, task cancelled, …).
            connection.cancel(stream_id)
