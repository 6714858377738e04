"""The value types of the webhook calls: endpoints, their secrets, messages and attempts, and the outbox in numbers.

jobwired POSTs each change of a tenant's jobs to the tenant's endpoints, signed
by the Standard Webhooks scheme (docs/WEBHOOKS.md); ``Client.create_webhook``
and the calls after it manage them. Like the other models these are frozen
dataclasses; times are Unix epoch milliseconds, 0 meaning "not set", exactly
as on the wire.
"""
from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field


class DeliveryState(enum.IntEnum):
    """Where a webhook message stands (``jobwire.v1.DeliveryState``)."""

    #: Not yet delivered: being sent, or waiting for its next attempt.
    PENDING = 1
    #: A 2xx answer ended it.
    DELIVERED = 2
    #: Its attempts were used up, or its endpoint was disabled; it may be redelivered.
    GIVEN_UP = 3


@dataclass(frozen=True)
class WebhookEndpoint:
    """One of the tenant's webhook endpoints (``jobwire.v1.WebhookEndpoint``); its secrets are never in it.

    ``events`` are the event types it receives, sorted (``job.created``,
    ``job.completed``, ``job.failed``, ``job.cancelled``, ``job.retried``,
    ``job.progress``), empty for every type; ``labels`` limit it to the jobs
    that have all of them. ``enabled`` turns False for good after a 410 Gone or
    after failing too long: ``disabled_at_ms`` says when and
    ``disabled_reason`` why (``GONE: …``, ``FAILING: …``). ``failing_since_ms``
    is when the deliveries started failing (0 while the last one succeeded);
    ``previous_secret_expires_at_ms`` is, after a rotation, until when the
    previous secret signs beside the new one (0 when only one ever signed).
    """

    endpoint_id: str
    url: str
    events: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    created_at_ms: int = 0
    enabled: bool = True
    disabled_at_ms: int = 0
    disabled_reason: str = ""
    failing_since_ms: int = 0
    previous_secret_expires_at_ms: int = 0


@dataclass(frozen=True)
class WebhookSecret:
    """What ``create_webhook`` and ``rotate_webhook_secret`` answer: the endpoint and its new secret.

    ``secret`` (``whsec_`` and the base64 of 32 random bytes) is what the
    receiver verifies signatures with; the server shows it this once.
    """

    endpoint: WebhookEndpoint
    secret: str

    def __repr__(self) -> str:
        # Keeps the secret out of logs and tracebacks; read `.secret` to see it.
        return f"WebhookSecret(endpoint={self.endpoint!r}, secret='whsec_…')"


@dataclass(frozen=True)
class WebhookAttempt:
    """One try at delivering a message: when, the HTTP status (None when there was no answer), how long, what failed.

    ``latency_ms`` runs from the connection's start to the answer or the
    failure; ``error`` is empty on success.
    """

    attempt: int
    at_ms: int
    http_status: int | None
    latency_ms: float
    error: str = ""


@dataclass(frozen=True)
class WebhookDelivery:
    """A message about one revision of one job, for one endpoint (``jobwire.v1.WebhookDelivery``).

    ``message_id`` (``msg_…``) is the ``webhook-id`` header of every attempt;
    ``type`` the event type, e.g. ``job.completed``; ``changed_at_ms`` when the
    change happened (the body's ``timestamp``); ``next_attempt_at_ms`` when the
    next attempt is due while PENDING; ``attempts`` every attempt, oldest first.
    """

    message_id: str
    endpoint_id: str
    type: str
    job_id: str
    revision: int
    changed_at_ms: int
    state: DeliveryState
    next_attempt_at_ms: int = 0
    attempts: tuple[WebhookAttempt, ...] = ()


@dataclass(frozen=True)
class WebhookStats:
    """The tenant's webhook outbox in ``Stats.webhooks``, whatever the time range asked for.

    ``pending_messages`` wait to be delivered (retries included), the oldest
    for ``oldest_pending_age_ms`` since its change; ``failing_endpoints`` are
    those whose every delivery failed since ``failing_since_ms``;
    ``skipped_messages`` were not made, since the server started, because the
    outbox was at its bound.
    """

    pending_messages: int = 0
    oldest_pending_age_ms: int = 0
    endpoints: int = 0
    failing_endpoints: int = 0
    disabled_endpoints: int = 0
    skipped_messages: int = 0
