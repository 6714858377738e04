"""JobWire for Python: a client of the JobWire job metadata and status service.

::

    import jobwire

    with jobwire.Client("127.0.0.1", 7420, api_key=key) as client:
        job = client.configure(jobwire.JobSpec(type="transcode")).job
        for event in client.watch(job.job_id):
            print(event.kind.name, event.job.status.name if event.job else "", event.revision)

        view = jobwire.JobsView()                   # every RUNNING job, kept current
        for jobs_event in client.watch_jobs(statuses=[jobwire.JobStatus.RUNNING]):
            view.apply(jobs_event)

``jobwire.aio.Client`` is the same API on asyncio. Errors are subclasses of
:class:`JobWireError` carrying ``code``, ``reason``, ``message`` and
``retry_after``; docs/PROTOCOL.md describes the protocol underneath.
"""
from ._jobs_view import JobsView
from ._policy import Backoff
from ._tls import TLSOptions
from ._tls import client_context as tls_context
from ._version import __version__
from ._worker_logic import JobCancelled
from .client import Client
from .errors import (Aborted, AlreadyExists, Cancelled, DataLoss, DeadlineExceeded, FailedPrecondition, Internal,
                     InvalidArgument, JobWireError, NotFound, OutOfRange, PermissionDenied, Reason,
                     ResourceExhausted, Status, StatusCode, Unauthenticated, Unavailable, Unimplemented, Unknown)
from .models import (BatchResult, ComponentHealth, ComponentState, ConfigureResult, EventKind, Health, Job, JobAttempt,
                     JobError, JobOrder, JobPage, JobResult, JobsEvent, JobsEventType, JobSpec, JobStatus, KeyUsage,
                     MethodStats, MethodUsage, ServerInfo, ServingStatus, Stats, StreamMetadata, Usage, WatchEvent)
from .webhooks import (DeliveryState, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookSecret,
                       WebhookStats)
from .worker import Worker

__all__ = [
    "Aborted", "AlreadyExists", "Backoff", "BatchResult", "Cancelled", "Client", "ComponentHealth", "ComponentState",
    "ConfigureResult", "DataLoss", "DeadlineExceeded", "DeliveryState", "EventKind", "FailedPrecondition", "Health",
    "Internal", "InvalidArgument", "Job", "JobAttempt", "JobCancelled", "JobError", "JobOrder", "JobPage", "JobResult",
    "JobSpec", "JobsEvent", "JobsEventType", "JobsView", "JobStatus", "JobWireError", "KeyUsage", "MethodStats",
    "MethodUsage", "NotFound", "OutOfRange", "PermissionDenied", "Reason", "ResourceExhausted", "ServerInfo",
    "ServingStatus", "Stats", "Status", "StatusCode", "StreamMetadata", "TLSOptions", "Unauthenticated", "Unavailable",
    "Unimplemented", "Unknown", "Usage", "WatchEvent", "WebhookAttempt", "WebhookDelivery", "WebhookEndpoint",
    "WebhookSecret", "WebhookStats", "Worker", "__version__", "tls_context",
]
