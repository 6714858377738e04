from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StatusCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OK: _ClassVar[StatusCode]
    CANCELLED: _ClassVar[StatusCode]
    UNKNOWN: _ClassVar[StatusCode]
    INVALID_ARGUMENT: _ClassVar[StatusCode]
    DEADLINE_EXCEEDED: _ClassVar[StatusCode]
    NOT_FOUND: _ClassVar[StatusCode]
    ALREADY_EXISTS: _ClassVar[StatusCode]
    PERMISSION_DENIED: _ClassVar[StatusCode]
    RESOURCE_EXHAUSTED: _ClassVar[StatusCode]
    FAILED_PRECONDITION: _ClassVar[StatusCode]
    ABORTED: _ClassVar[StatusCode]
    OUT_OF_RANGE: _ClassVar[StatusCode]
    UNIMPLEMENTED: _ClassVar[StatusCode]
    INTERNAL: _ClassVar[StatusCode]
    UNAVAILABLE: _ClassVar[StatusCode]
    DATA_LOSS: _ClassVar[StatusCode]
    UNAUTHENTICATED: _ClassVar[StatusCode]

class JobStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_STATUS_UNSPECIFIED: _ClassVar[JobStatus]
    JOB_STATUS_PENDING: _ClassVar[JobStatus]
    JOB_STATUS_RUNNING: _ClassVar[JobStatus]
    JOB_STATUS_CANCELLING: _ClassVar[JobStatus]
    JOB_STATUS_COMPLETED: _ClassVar[JobStatus]
    JOB_STATUS_FAILED: _ClassVar[JobStatus]
    JOB_STATUS_CANCELLED: _ClassVar[JobStatus]

class JobOrder(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_ORDER_CREATED: _ClassVar[JobOrder]
    JOB_ORDER_UPDATED: _ClassVar[JobOrder]
    JOB_ORDER_PRIORITY: _ClassVar[JobOrder]

class WatchEventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WATCH_EVENT_TYPE_UNSPECIFIED: _ClassVar[WatchEventType]
    WATCH_EVENT_TYPE_SNAPSHOT: _ClassVar[WatchEventType]
    WATCH_EVENT_TYPE_CHANGE: _ClassVar[WatchEventType]
    WATCH_EVENT_TYPE_RESYNC: _ClassVar[WatchEventType]
    WATCH_EVENT_TYPE_BOOKMARK: _ClassVar[WatchEventType]

class JobsEventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOBS_EVENT_TYPE_UNSPECIFIED: _ClassVar[JobsEventType]
    JOBS_EVENT_TYPE_SNAPSHOT: _ClassVar[JobsEventType]
    JOBS_EVENT_TYPE_SYNCED: _ClassVar[JobsEventType]
    JOBS_EVENT_TYPE_ENTERED: _ClassVar[JobsEventType]
    JOBS_EVENT_TYPE_CHANGED: _ClassVar[JobsEventType]
    JOBS_EVENT_TYPE_LEFT: _ClassVar[JobsEventType]
    JOBS_EVENT_TYPE_RESYNC: _ClassVar[JobsEventType]
    JOBS_EVENT_TYPE_BOOKMARK: _ClassVar[JobsEventType]

class ComponentState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COMPONENT_STATE_UNSPECIFIED: _ClassVar[ComponentState]
    COMPONENT_STATE_OK: _ClassVar[ComponentState]
    COMPONENT_STATE_WARNING: _ClassVar[ComponentState]
    COMPONENT_STATE_FAILING: _ClassVar[ComponentState]

class ServingStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SERVING_STATUS_UNSPECIFIED: _ClassVar[ServingStatus]
    SERVING_STATUS_SERVING: _ClassVar[ServingStatus]
    SERVING_STATUS_NOT_SERVING: _ClassVar[ServingStatus]
    SERVING_STATUS_DRAINING: _ClassVar[ServingStatus]

class DeliveryState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DELIVERY_STATE_UNSPECIFIED: _ClassVar[DeliveryState]
    DELIVERY_STATE_PENDING: _ClassVar[DeliveryState]
    DELIVERY_STATE_DELIVERED: _ClassVar[DeliveryState]
    DELIVERY_STATE_GIVEN_UP: _ClassVar[DeliveryState]
OK: StatusCode
CANCELLED: StatusCode
UNKNOWN: StatusCode
INVALID_ARGUMENT: StatusCode
DEADLINE_EXCEEDED: StatusCode
NOT_FOUND: StatusCode
ALREADY_EXISTS: StatusCode
PERMISSION_DENIED: StatusCode
RESOURCE_EXHAUSTED: StatusCode
FAILED_PRECONDITION: StatusCode
ABORTED: StatusCode
OUT_OF_RANGE: StatusCode
UNIMPLEMENTED: StatusCode
INTERNAL: StatusCode
UNAVAILABLE: StatusCode
DATA_LOSS: StatusCode
UNAUTHENTICATED: StatusCode
JOB_STATUS_UNSPECIFIED: JobStatus
JOB_STATUS_PENDING: JobStatus
JOB_STATUS_RUNNING: JobStatus
JOB_STATUS_CANCELLING: JobStatus
JOB_STATUS_COMPLETED: JobStatus
JOB_STATUS_FAILED: JobStatus
JOB_STATUS_CANCELLED: JobStatus
JOB_ORDER_CREATED: JobOrder
JOB_ORDER_UPDATED: JobOrder
JOB_ORDER_PRIORITY: JobOrder
WATCH_EVENT_TYPE_UNSPECIFIED: WatchEventType
WATCH_EVENT_TYPE_SNAPSHOT: WatchEventType
WATCH_EVENT_TYPE_CHANGE: WatchEventType
WATCH_EVENT_TYPE_RESYNC: WatchEventType
WATCH_EVENT_TYPE_BOOKMARK: WatchEventType
JOBS_EVENT_TYPE_UNSPECIFIED: JobsEventType
JOBS_EVENT_TYPE_SNAPSHOT: JobsEventType
JOBS_EVENT_TYPE_SYNCED: JobsEventType
JOBS_EVENT_TYPE_ENTERED: JobsEventType
JOBS_EVENT_TYPE_CHANGED: JobsEventType
JOBS_EVENT_TYPE_LEFT: JobsEventType
JOBS_EVENT_TYPE_RESYNC: JobsEventType
JOBS_EVENT_TYPE_BOOKMARK: JobsEventType
COMPONENT_STATE_UNSPECIFIED: ComponentState
COMPONENT_STATE_OK: ComponentState
COMPONENT_STATE_WARNING: ComponentState
COMPONENT_STATE_FAILING: ComponentState
SERVING_STATUS_UNSPECIFIED: ServingStatus
SERVING_STATUS_SERVING: ServingStatus
SERVING_STATUS_NOT_SERVING: ServingStatus
SERVING_STATUS_DRAINING: ServingStatus
DELIVERY_STATE_UNSPECIFIED: DeliveryState
DELIVERY_STATE_PENDING: DeliveryState
DELIVERY_STATE_DELIVERED: DeliveryState
DELIVERY_STATE_GIVEN_UP: DeliveryState

class Status(_message.Message):
    __slots__ = ("code", "reason", "message", "retry_after_ms")
    CODE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_MS_FIELD_NUMBER: _ClassVar[int]
    code: StatusCode
    reason: str
    message: str
    retry_after_ms: int
    def __init__(self, code: _Optional[_Union[StatusCode, str]] = ..., reason: _Optional[str] = ..., message: _Optional[str] = ..., retry_after_ms: _Optional[int] = ...) -> None: ...

class StreamMetadata(_message.Message):
    __slots__ = ("dx", "prr", "fiber_start_meters", "fiber_length_meters", "sw_version")
    DX_FIELD_NUMBER: _ClassVar[int]
    PRR_FIELD_NUMBER: _ClassVar[int]
    FIBER_START_METERS_FIELD_NUMBER: _ClassVar[int]
    FIBER_LENGTH_METERS_FIELD_NUMBER: _ClassVar[int]
    SW_VERSION_FIELD_NUMBER: _ClassVar[int]
    dx: float
    prr: float
    fiber_start_meters: float
    fiber_length_meters: float
    sw_version: str
    def __init__(self, dx: _Optional[float] = ..., prr: _Optional[float] = ..., fiber_start_meters: _Optional[float] = ..., fiber_length_meters: _Optional[float] = ..., sw_version: _Optional[str] = ...) -> None: ...

class JobResult(_message.Message):
    __slots__ = ("content_type", "data")
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    content_type: str
    data: bytes
    def __init__(self, content_type: _Optional[str] = ..., data: _Optional[bytes] = ...) -> None: ...

class JobError(_message.Message):
    __slots__ = ("message", "failed_task", "retry_count", "reason")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    FAILED_TASK_FIELD_NUMBER: _ClassVar[int]
    RETRY_COUNT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    message: str
    failed_task: str
    retry_count: int
    reason: str
    def __init__(self, message: _Optional[str] = ..., failed_task: _Optional[str] = ..., retry_count: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class JobAttempt(_message.Message):
    __slots__ = ("attempt", "status", "error", "cancel_reason", "completed_at_ms")
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REASON_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    attempt: int
    status: JobStatus
    error: JobError
    cancel_reason: str
    completed_at_ms: int
    def __init__(self, attempt: _Optional[int] = ..., status: _Optional[_Union[JobStatus, str]] = ..., error: _Optional[_Union[JobError, _Mapping]] = ..., cancel_reason: _Optional[str] = ..., completed_at_ms: _Optional[int] = ...) -> None: ...

class Job(_message.Message):
    __slots__ = ("job_id", "tenant", "type", "labels", "priority", "stream_url", "stream_port", "view_type", "frequencies_list", "lines_dt", "channel_to_stream_index", "stream_amount", "frequencies_amount", "channel_amount", "metadata", "status", "progress", "current_task", "eta_seconds", "attempt", "created_at_ms", "updated_at_ms", "completed_at_ms", "expires_at_ms", "lease_expires_at_ms", "result", "error", "cancel_reason", "previous_attempts", "log_tail", "log_line_count", "revision")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class ChannelToStreamIndexEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: int
        def __init__(self, key: _Optional[int] = ..., value: _Optional[int] = ...) -> None: ...
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    STREAM_URL_FIELD_NUMBER: _ClassVar[int]
    STREAM_PORT_FIELD_NUMBER: _ClassVar[int]
    VIEW_TYPE_FIELD_NUMBER: _ClassVar[int]
    FREQUENCIES_LIST_FIELD_NUMBER: _ClassVar[int]
    LINES_DT_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_TO_STREAM_INDEX_FIELD_NUMBER: _ClassVar[int]
    STREAM_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    FREQUENCIES_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    CURRENT_TASK_FIELD_NUMBER: _ClassVar[int]
    ETA_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_MS_FIELD_NUMBER: _ClassVar[int]
    LEASE_EXPIRES_AT_MS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REASON_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    LOG_TAIL_FIELD_NUMBER: _ClassVar[int]
    LOG_LINE_COUNT_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    tenant: str
    type: str
    labels: _containers.ScalarMap[str, str]
    priority: int
    stream_url: str
    stream_port: int
    view_type: int
    frequencies_list: _containers.RepeatedScalarFieldContainer[float]
    lines_dt: float
    channel_to_stream_index: _containers.ScalarMap[int, int]
    stream_amount: int
    frequencies_amount: int
    channel_amount: int
    metadata: StreamMetadata
    status: JobStatus
    progress: float
    current_task: str
    eta_seconds: float
    attempt: int
    created_at_ms: int
    updated_at_ms: int
    completed_at_ms: int
    expires_at_ms: int
    lease_expires_at_ms: int
    result: JobResult
    error: JobError
    cancel_reason: str
    previous_attempts: _containers.RepeatedCompositeFieldContainer[JobAttempt]
    log_tail: _containers.RepeatedScalarFieldContainer[str]
    log_line_count: int
    revision: int
    def __init__(self, job_id: _Optional[str] = ..., tenant: _Optional[str] = ..., type: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., priority: _Optional[int] = ..., stream_url: _Optional[str] = ..., stream_port: _Optional[int] = ..., view_type: _Optional[int] = ..., frequencies_list: _Optional[_Iterable[float]] = ..., lines_dt: _Optional[float] = ..., channel_to_stream_index: _Optional[_Mapping[int, int]] = ..., stream_amount: _Optional[int] = ..., frequencies_amount: _Optional[int] = ..., channel_amount: _Optional[int] = ..., metadata: _Optional[_Union[StreamMetadata, _Mapping]] = ..., status: _Optional[_Union[JobStatus, str]] = ..., progress: _Optional[float] = ..., current_task: _Optional[str] = ..., eta_seconds: _Optional[float] = ..., attempt: _Optional[int] = ..., created_at_ms: _Optional[int] = ..., updated_at_ms: _Optional[int] = ..., completed_at_ms: _Optional[int] = ..., expires_at_ms: _Optional[int] = ..., lease_expires_at_ms: _Optional[int] = ..., result: _Optional[_Union[JobResult, _Mapping]] = ..., error: _Optional[_Union[JobError, _Mapping]] = ..., cancel_reason: _Optional[str] = ..., previous_attempts: _Optional[_Iterable[_Union[JobAttempt, _Mapping]]] = ..., log_tail: _Optional[_Iterable[str]] = ..., log_line_count: _Optional[int] = ..., revision: _Optional[int] = ...) -> None: ...

class ConfigureRequest(_message.Message):
    __slots__ = ("request_id", "job", "lease_ttl_ms")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    LEASE_TTL_MS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    job: Job
    lease_ttl_ms: int
    def __init__(self, request_id: _Optional[str] = ..., job: _Optional[_Union[Job, _Mapping]] = ..., lease_ttl_ms: _Optional[int] = ...) -> None: ...

class ConfigureResponse(_message.Message):
    __slots__ = ("job", "created")
    JOB_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    job: Job
    created: bool
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ..., created: bool = ...) -> None: ...

class GetMetadataRequest(_message.Message):
    __slots__ = ("job_id", "log_tail")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    LOG_TAIL_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    log_tail: int
    def __init__(self, job_id: _Optional[str] = ..., log_tail: _Optional[int] = ...) -> None: ...

class BatchGetMetadataRequest(_message.Message):
    __slots__ = ("job_ids", "log_tail")
    JOB_IDS_FIELD_NUMBER: _ClassVar[int]
    LOG_TAIL_FIELD_NUMBER: _ClassVar[int]
    job_ids: _containers.RepeatedScalarFieldContainer[str]
    log_tail: int
    def __init__(self, job_ids: _Optional[_Iterable[str]] = ..., log_tail: _Optional[int] = ...) -> None: ...

class BatchGetResult(_message.Message):
    __slots__ = ("job_id", "job", "error")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    job: Job
    error: Status
    def __init__(self, job_id: _Optional[str] = ..., job: _Optional[_Union[Job, _Mapping]] = ..., error: _Optional[_Union[Status, _Mapping]] = ...) -> None: ...

class BatchGetMetadataResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[BatchGetResult]
    def __init__(self, results: _Optional[_Iterable[_Union[BatchGetResult, _Mapping]]] = ...) -> None: ...

class PriorityRange(_message.Message):
    __slots__ = ("min", "max")
    MIN_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    min: int
    max: int
    def __init__(self, min: _Optional[int] = ..., max: _Optional[int] = ...) -> None: ...

class ListJobsRequest(_message.Message):
    __slots__ = ("statuses", "type", "labels", "created_after_ms", "created_before_ms", "priority", "page_size", "page_token", "query", "order_by", "ascending")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AFTER_MS_FIELD_NUMBER: _ClassVar[int]
    CREATED_BEFORE_MS_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    ASCENDING_FIELD_NUMBER: _ClassVar[int]
    statuses: _containers.RepeatedScalarFieldContainer[JobStatus]
    type: str
    labels: _containers.ScalarMap[str, str]
    created_after_ms: int
    created_before_ms: int
    priority: PriorityRange
    page_size: int
    page_token: str
    query: str
    order_by: JobOrder
    ascending: bool
    def __init__(self, statuses: _Optional[_Iterable[_Union[JobStatus, str]]] = ..., type: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., created_after_ms: _Optional[int] = ..., created_before_ms: _Optional[int] = ..., priority: _Optional[_Union[PriorityRange, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., query: _Optional[str] = ..., order_by: _Optional[_Union[JobOrder, str]] = ..., ascending: bool = ...) -> None: ...

class ListJobsResponse(_message.Message):
    __slots__ = ("jobs", "next_page_token", "total_count")
    JOBS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COUNT_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[Job]
    next_page_token: str
    total_count: int
    def __init__(self, jobs: _Optional[_Iterable[_Union[Job, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_count: _Optional[int] = ...) -> None: ...

class WatchJobRequest(_message.Message):
    __slots__ = ("job_id", "after_revision", "log_tail")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_REVISION_FIELD_NUMBER: _ClassVar[int]
    LOG_TAIL_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    after_revision: int
    log_tail: int
    def __init__(self, job_id: _Optional[str] = ..., after_revision: _Optional[int] = ..., log_tail: _Optional[int] = ...) -> None: ...

class WatchEvent(_message.Message):
    __slots__ = ("type", "revision", "job", "new_log_lines")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    NEW_LOG_LINES_FIELD_NUMBER: _ClassVar[int]
    type: WatchEventType
    revision: int
    job: Job
    new_log_lines: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, type: _Optional[_Union[WatchEventType, str]] = ..., revision: _Optional[int] = ..., job: _Optional[_Union[Job, _Mapping]] = ..., new_log_lines: _Optional[_Iterable[str]] = ...) -> None: ...

class WatchJobsRequest(_message.Message):
    __slots__ = ("filter", "cursor")
    FILTER_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    filter: ListJobsRequest
    cursor: str
    def __init__(self, filter: _Optional[_Union[ListJobsRequest, _Mapping]] = ..., cursor: _Optional[str] = ...) -> None: ...

class JobsEvent(_message.Message):
    __slots__ = ("type", "cursor", "jobs", "job_id")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    JOBS_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    type: JobsEventType
    cursor: str
    jobs: _containers.RepeatedCompositeFieldContainer[Job]
    job_id: str
    def __init__(self, type: _Optional[_Union[JobsEventType, str]] = ..., cursor: _Optional[str] = ..., jobs: _Optional[_Iterable[_Union[Job, _Mapping]]] = ..., job_id: _Optional[str] = ...) -> None: ...

class CancelRequest(_message.Message):
    __slots__ = ("job_id", "reason")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    reason: str
    def __init__(self, job_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class UpdateJobRequest(_message.Message):
    __slots__ = ("job_id", "status", "progress", "current_task", "eta_seconds", "log_lines", "result", "error", "lease_ttl_ms", "expected_revision")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    CURRENT_TASK_FIELD_NUMBER: _ClassVar[int]
    ETA_SECONDS_FIELD_NUMBER: _ClassVar[int]
    LOG_LINES_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    LEASE_TTL_MS_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    status: JobStatus
    progress: float
    current_task: str
    eta_seconds: float
    log_lines: _containers.RepeatedScalarFieldContainer[str]
    result: JobResult
    error: JobError
    lease_ttl_ms: int
    expected_revision: int
    def __init__(self, job_id: _Optional[str] = ..., status: _Optional[_Union[JobStatus, str]] = ..., progress: _Optional[float] = ..., current_task: _Optional[str] = ..., eta_seconds: _Optional[float] = ..., log_lines: _Optional[_Iterable[str]] = ..., result: _Optional[_Union[JobResult, _Mapping]] = ..., error: _Optional[_Union[JobError, _Mapping]] = ..., lease_ttl_ms: _Optional[int] = ..., expected_revision: _Optional[int] = ...) -> None: ...

class DeleteJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class DeleteJobResponse(_message.Message):
    __slots__ = ("revision",)
    REVISION_FIELD_NUMBER: _ClassVar[int]
    revision: int
    def __init__(self, revision: _Optional[int] = ...) -> None: ...

class HealthRequest(_message.Message):
    __slots__ = ("detailed",)
    DETAILED_FIELD_NUMBER: _ClassVar[int]
    detailed: bool
    def __init__(self, detailed: bool = ...) -> None: ...

class ComponentHealth(_message.Message):
    __slots__ = ("name", "state", "message", "measures")
    class MeasuresEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    MEASURES_FIELD_NUMBER: _ClassVar[int]
    name: str
    state: ComponentState
    message: str
    measures: _containers.ScalarMap[str, float]
    def __init__(self, name: _Optional[str] = ..., state: _Optional[_Union[ComponentState, str]] = ..., message: _Optional[str] = ..., measures: _Optional[_Mapping[str, float]] = ...) -> None: ...

class HealthResponse(_message.Message):
    __slots__ = ("status", "store", "store_state", "server_version", "uptime_ms", "components")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STORE_FIELD_NUMBER: _ClassVar[int]
    STORE_STATE_FIELD_NUMBER: _ClassVar[int]
    SERVER_VERSION_FIELD_NUMBER: _ClassVar[int]
    UPTIME_MS_FIELD_NUMBER: _ClassVar[int]
    COMPONENTS_FIELD_NUMBER: _ClassVar[int]
    status: ServingStatus
    store: str
    store_state: str
    server_version: str
    uptime_ms: int
    components: _containers.RepeatedCompositeFieldContainer[ComponentHealth]
    def __init__(self, status: _Optional[_Union[ServingStatus, str]] = ..., store: _Optional[str] = ..., store_state: _Optional[str] = ..., server_version: _Optional[str] = ..., uptime_ms: _Optional[int] = ..., components: _Optional[_Iterable[_Union[ComponentHealth, _Mapping]]] = ...) -> None: ...

class StatsRequest(_message.Message):
    __slots__ = ("tenant", "created_after_ms", "created_before_ms")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AFTER_MS_FIELD_NUMBER: _ClassVar[int]
    CREATED_BEFORE_MS_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    created_after_ms: int
    created_before_ms: int
    def __init__(self, tenant: _Optional[str] = ..., created_after_ms: _Optional[int] = ..., created_before_ms: _Optional[int] = ...) -> None: ...

class StatusCount(_message.Message):
    __slots__ = ("status", "count")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    status: JobStatus
    count: int
    def __init__(self, status: _Optional[_Union[JobStatus, str]] = ..., count: _Optional[int] = ...) -> None: ...

class MethodStats(_message.Message):
    __slots__ = ("method", "calls", "errors", "p50_us", "p99_us", "p999_us")
    METHOD_FIELD_NUMBER: _ClassVar[int]
    CALLS_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    P50_US_FIELD_NUMBER: _ClassVar[int]
    P99_US_FIELD_NUMBER: _ClassVar[int]
    P999_US_FIELD_NUMBER: _ClassVar[int]
    method: str
    calls: int
    errors: int
    p50_us: int
    p99_us: int
    p999_us: int
    def __init__(self, method: _Optional[str] = ..., calls: _Optional[int] = ..., errors: _Optional[int] = ..., p50_us: _Optional[int] = ..., p99_us: _Optional[int] = ..., p999_us: _Optional[int] = ...) -> None: ...

class StatsResponse(_message.Message):
    __slots__ = ("jobs", "connections", "streams", "methods", "uptime_ms", "total_jobs", "success_rate", "average_run_time_ms", "webhook_pending_messages", "webhook_oldest_pending_age_ms", "webhook_endpoints", "webhook_failing_endpoints", "webhook_disabled_endpoints", "webhook_skipped_messages")
    JOBS_FIELD_NUMBER: _ClassVar[int]
    CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    STREAMS_FIELD_NUMBER: _ClassVar[int]
    METHODS_FIELD_NUMBER: _ClassVar[int]
    UPTIME_MS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_JOBS_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_RATE_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_RUN_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_PENDING_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_OLDEST_PENDING_AGE_MS_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_ENDPOINTS_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_FAILING_ENDPOINTS_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_DISABLED_ENDPOINTS_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_SKIPPED_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[StatusCount]
    connections: int
    streams: int
    methods: _containers.RepeatedCompositeFieldContainer[MethodStats]
    uptime_ms: int
    total_jobs: int
    success_rate: float
    average_run_time_ms: float
    webhook_pending_messages: int
    webhook_oldest_pending_age_ms: int
    webhook_endpoints: int
    webhook_failing_endpoints: int
    webhook_disabled_endpoints: int
    webhook_skipped_messages: int
    def __init__(self, jobs: _Optional[_Iterable[_Union[StatusCount, _Mapping]]] = ..., connections: _Optional[int] = ..., streams: _Optional[int] = ..., methods: _Optional[_Iterable[_Union[MethodStats, _Mapping]]] = ..., uptime_ms: _Optional[int] = ..., total_jobs: _Optional[int] = ..., success_rate: _Optional[float] = ..., average_run_time_ms: _Optional[float] = ..., webhook_pending_messages: _Optional[int] = ..., webhook_oldest_pending_age_ms: _Optional[int] = ..., webhook_endpoints: _Optional[int] = ..., webhook_failing_endpoints: _Optional[int] = ..., webhook_disabled_endpoints: _Optional[int] = ..., webhook_skipped_messages: _Optional[int] = ...) -> None: ...

class RetryRequest(_message.Message):
    __slots__ = ("job_id", "expected_revision")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    expected_revision: int
    def __init__(self, job_id: _Optional[str] = ..., expected_revision: _Optional[int] = ...) -> None: ...

class SetPriorityRequest(_message.Message):
    __slots__ = ("job_id", "priority", "expected_revision")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    priority: int
    expected_revision: int
    def __init__(self, job_id: _Optional[str] = ..., priority: _Optional[int] = ..., expected_revision: _Optional[int] = ...) -> None: ...

class UsageRequest(_message.Message):
    __slots__ = ("tenant",)
    TENANT_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    def __init__(self, tenant: _Optional[str] = ...) -> None: ...

class CodeCount(_message.Message):
    __slots__ = ("code", "count")
    CODE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    code: StatusCode
    count: int
    def __init__(self, code: _Optional[_Union[StatusCode, str]] = ..., count: _Optional[int] = ...) -> None: ...

class MethodUsage(_message.Message):
    __slots__ = ("method", "calls", "errors")
    METHOD_FIELD_NUMBER: _ClassVar[int]
    CALLS_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    method: str
    calls: int
    errors: _containers.RepeatedCompositeFieldContainer[CodeCount]
    def __init__(self, method: _Optional[str] = ..., calls: _Optional[int] = ..., errors: _Optional[_Iterable[_Union[CodeCount, _Mapping]]] = ...) -> None: ...

class KeyUsage(_message.Message):
    __slots__ = ("key_id", "role", "methods", "rate_limited", "bytes_in", "bytes_out", "last_used_at_ms")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    METHODS_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMITED_FIELD_NUMBER: _ClassVar[int]
    BYTES_IN_FIELD_NUMBER: _ClassVar[int]
    BYTES_OUT_FIELD_NUMBER: _ClassVar[int]
    LAST_USED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    role: str
    methods: _containers.RepeatedCompositeFieldContainer[MethodUsage]
    rate_limited: int
    bytes_in: int
    bytes_out: int
    last_used_at_ms: int
    def __init__(self, key_id: _Optional[str] = ..., role: _Optional[str] = ..., methods: _Optional[_Iterable[_Union[MethodUsage, _Mapping]]] = ..., rate_limited: _Optional[int] = ..., bytes_in: _Optional[int] = ..., bytes_out: _Optional[int] = ..., last_used_at_ms: _Optional[int] = ...) -> None: ...

class UsageResponse(_message.Message):
    __slots__ = ("tenant", "keys")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    keys: _containers.RepeatedCompositeFieldContainer[KeyUsage]
    def __init__(self, tenant: _Optional[str] = ..., keys: _Optional[_Iterable[_Union[KeyUsage, _Mapping]]] = ...) -> None: ...

class WebhookEndpoint(_message.Message):
    __slots__ = ("endpoint_id", "url", "events", "labels", "created_at_ms", "enabled", "disabled_at_ms", "disabled_reason", "failing_since_ms", "previous_secret_expires_at_ms")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ENDPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    DISABLED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    DISABLED_REASON_FIELD_NUMBER: _ClassVar[int]
    FAILING_SINCE_MS_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_SECRET_EXPIRES_AT_MS_FIELD_NUMBER: _ClassVar[int]
    endpoint_id: str
    url: str
    events: _containers.RepeatedScalarFieldContainer[str]
    labels: _containers.ScalarMap[str, str]
    created_at_ms: int
    enabled: bool
    disabled_at_ms: int
    disabled_reason: str
    failing_since_ms: int
    previous_secret_expires_at_ms: int
    def __init__(self, endpoint_id: _Optional[str] = ..., url: _Optional[str] = ..., events: _Optional[_Iterable[str]] = ..., labels: _Optional[_Mapping[str, str]] = ..., created_at_ms: _Optional[int] = ..., enabled: bool = ..., disabled_at_ms: _Optional[int] = ..., disabled_reason: _Optional[str] = ..., failing_since_ms: _Optional[int] = ..., previous_secret_expires_at_ms: _Optional[int] = ...) -> None: ...

class CreateWebhookRequest(_message.Message):
    __slots__ = ("url", "events", "labels")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    URL_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    url: str
    events: _containers.RepeatedScalarFieldContainer[str]
    labels: _containers.ScalarMap[str, str]
    def __init__(self, url: _Optional[str] = ..., events: _Optional[_Iterable[str]] = ..., labels: _Optional[_Mapping[str, str]] = ...) -> None: ...

class WebhookSecretResponse(_message.Message):
    __slots__ = ("endpoint", "secret")
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    endpoint: WebhookEndpoint
    secret: str
    def __init__(self, endpoint: _Optional[_Union[WebhookEndpoint, _Mapping]] = ..., secret: _Optional[str] = ...) -> None: ...

class ListWebhooksRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListWebhooksResponse(_message.Message):
    __slots__ = ("endpoints",)
    ENDPOINTS_FIELD_NUMBER: _ClassVar[int]
    endpoints: _containers.RepeatedCompositeFieldContainer[WebhookEndpoint]
    def __init__(self, endpoints: _Optional[_Iterable[_Union[WebhookEndpoint, _Mapping]]] = ...) -> None: ...

class GetWebhookRequest(_message.Message):
    __slots__ = ("endpoint_id",)
    ENDPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    endpoint_id: str
    def __init__(self, endpoint_id: _Optional[str] = ...) -> None: ...

class DeleteWebhookRequest(_message.Message):
    __slots__ = ("endpoint_id",)
    ENDPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    endpoint_id: str
    def __init__(self, endpoint_id: _Optional[str] = ...) -> None: ...

class DeleteWebhookResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RotateWebhookSecretRequest(_message.Message):
    __slots__ = ("endpoint_id", "overlap_ms")
    ENDPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    OVERLAP_MS_FIELD_NUMBER: _ClassVar[int]
    endpoint_id: str
    overlap_ms: int
    def __init__(self, endpoint_id: _Optional[str] = ..., overlap_ms: _Optional[int] = ...) -> None: ...

class WebhookAttempt(_message.Message):
    __slots__ = ("attempt", "at_ms", "http_status", "latency_us", "error")
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    AT_MS_FIELD_NUMBER: _ClassVar[int]
    HTTP_STATUS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_US_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    attempt: int
    at_ms: int
    http_status: int
    latency_us: int
    error: str
    def __init__(self, attempt: _Optional[int] = ..., at_ms: _Optional[int] = ..., http_status: _Optional[int] = ..., latency_us: _Optional[int] = ..., error: _Optional[str] = ...) -> None: ...

class WebhookDelivery(_message.Message):
    __slots__ = ("message_id", "endpoint_id", "type", "job_id", "revision", "changed_at_ms", "state", "next_attempt_at_ms", "attempts")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    CHANGED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    NEXT_ATTEMPT_AT_MS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    endpoint_id: str
    type: str
    job_id: str
    revision: int
    changed_at_ms: int
    state: DeliveryState
    next_attempt_at_ms: int
    attempts: _containers.RepeatedCompositeFieldContainer[WebhookAttempt]
    def __init__(self, message_id: _Optional[str] = ..., endpoint_id: _Optional[str] = ..., type: _Optional[str] = ..., job_id: _Optional[str] = ..., revision: _Optional[int] = ..., changed_at_ms: _Optional[int] = ..., state: _Optional[_Union[DeliveryState, str]] = ..., next_attempt_at_ms: _Optional[int] = ..., attempts: _Optional[_Iterable[_Union[WebhookAttempt, _Mapping]]] = ...) -> None: ...

class ListWebhookDeliveriesRequest(_message.Message):
    __slots__ = ("endpoint_id", "limit")
    ENDPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    endpoint_id: str
    limit: int
    def __init__(self, endpoint_id: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListWebhookDeliveriesResponse(_message.Message):
    __slots__ = ("deliveries",)
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    deliveries: _containers.RepeatedCompositeFieldContainer[WebhookDelivery]
    def __init__(self, deliveries: _Optional[_Iterable[_Union[WebhookDelivery, _Mapping]]] = ...) -> None: ...

class RedeliverWebhookRequest(_message.Message):
    __slots__ = ("message_id", "endpoint_id")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    endpoint_id: str
    def __init__(self, message_id: _Optional[str] = ..., endpoint_id: _Optional[str] = ...) -> None: ...

class Hello(_message.Message):
    __slots__ = ("protocol_version", "api_key", "client_name", "max_frame_bytes")
    PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    CLIENT_NAME_FIELD_NUMBER: _ClassVar[int]
    MAX_FRAME_BYTES_FIELD_NUMBER: _ClassVar[int]
    protocol_version: int
    api_key: str
    client_name: str
    max_frame_bytes: int
    def __init__(self, protocol_version: _Optional[int] = ..., api_key: _Optional[str] = ..., client_name: _Optional[str] = ..., max_frame_bytes: _Optional[int] = ...) -> None: ...

class HelloAck(_message.Message):
    __slots__ = ("protocol_version", "server_name", "max_frame_bytes", "max_concurrent_streams", "ping_interval_ms", "tenant", "role")
    PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    SERVER_NAME_FIELD_NUMBER: _ClassVar[int]
    MAX_FRAME_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENT_STREAMS_FIELD_NUMBER: _ClassVar[int]
    PING_INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    protocol_version: int
    server_name: str
    max_frame_bytes: int
    max_concurrent_streams: int
    ping_interval_ms: int
    tenant: str
    role: str
    def __init__(self, protocol_version: _Optional[int] = ..., server_name: _Optional[str] = ..., max_frame_bytes: _Optional[int] = ..., max_concurrent_streams: _Optional[int] = ..., ping_interval_ms: _Optional[int] = ..., tenant: _Optional[str] = ..., role: _Optional[str] = ...) -> None: ...

class Call(_message.Message):
    __slots__ = ("stream_id", "method", "request", "timeout_ms", "tenant")
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    stream_id: int
    method: str
    request: bytes
    timeout_ms: int
    tenant: str
    def __init__(self, stream_id: _Optional[int] = ..., method: _Optional[str] = ..., request: _Optional[bytes] = ..., timeout_ms: _Optional[int] = ..., tenant: _Optional[str] = ...) -> None: ...

class Reply(_message.Message):
    __slots__ = ("stream_id", "message")
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    stream_id: int
    message: bytes
    def __init__(self, stream_id: _Optional[int] = ..., message: _Optional[bytes] = ...) -> None: ...

class End(_message.Message):
    __slots__ = ("stream_id", "status")
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    stream_id: int
    status: Status
    def __init__(self, stream_id: _Optional[int] = ..., status: _Optional[_Union[Status, _Mapping]] = ...) -> None: ...

class CancelCall(_message.Message):
    __slots__ = ("stream_id",)
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    stream_id: int
    def __init__(self, stream_id: _Optional[int] = ...) -> None: ...

class Ping(_message.Message):
    __slots__ = ("payload",)
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    payload: int
    def __init__(self, payload: _Optional[int] = ...) -> None: ...

class Pong(_message.Message):
    __slots__ = ("payload",)
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    payload: int
    def __init__(self, payload: _Optional[int] = ...) -> None: ...

class GoAway(_message.Message):
    __slots__ = ("last_stream_id", "status")
    LAST_STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    last_stream_id: int
    status: Status
    def __init__(self, last_stream_id: _Optional[int] = ..., status: _Optional[_Union[Status, _Mapping]] = ...) -> None: ...

class Frame(_message.Message):
    __slots__ = ("hello", "hello_ack", "call", "reply", "end", "cancel_call", "ping", "pong", "goaway")
    HELLO_FIELD_NUMBER: _ClassVar[int]
    HELLO_ACK_FIELD_NUMBER: _ClassVar[int]
    CALL_FIELD_NUMBER: _ClassVar[int]
    REPLY_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    CANCEL_CALL_FIELD_NUMBER: _ClassVar[int]
    PING_FIELD_NUMBER: _ClassVar[int]
    PONG_FIELD_NUMBER: _ClassVar[int]
    GOAWAY_FIELD_NUMBER: _ClassVar[int]
    hello: Hello
    hello_ack: HelloAck
    call: Call
    reply: Reply
    end: End
    cancel_call: CancelCall
    ping: Ping
    pong: Pong
    goaway: GoAway
    def __init__(self, hello: _Optional[_Union[Hello, _Mapping]] = ..., hello_ack: _Optional[_Union[HelloAck, _Mapping]] = ..., call: _Optional[_Union[Call, _Mapping]] = ..., reply: _Optional[_Union[Reply, _Mapping]] = ..., end: _Optional[_Union[End, _Mapping]] = ..., cancel_call: _Optional[_Union[CancelCall, _Mapping]] = ..., ping: _Optional[_Union[Ping, _Mapping]] = ..., pong: _Optional[_Union[Pong, _Mapping]] = ..., goaway: _Optional[_Union[GoAway, _Mapping]] = ...) -> None: ...
