"""The SP gateway's durable store (store).

:class:`~smsgw.store.interface.IMessageStore` is the contract;
:class:`~smsgw.store.sqlite.SqliteStore` (one WAL-mode SQLite file, the
default) and :class:`~smsgw.store.memory.MemoryStore` (unit tests)
implement it.  The value classes are in :mod:`smsgw.store.model`.
"""

from __future__ import annotations

from smsgw.store.interface import (
    DuplicateMessage,
    IMessageStore,
    InvalidTransition,
    SchemaTooNew,
    StoreClosed,
    StoreError,
    TemplateExists,
    UnknownCallback,
    UnknownSegment,
)
from smsgw.store.memory import MemoryStore
from smsgw.store.model import (
    CallbackAttempt,
    CallbackState,
    Inbound,
    InboundKind,
    Message,
    MessageStatus,
    Mode,
    Recipient,
    ReportMatch,
    ReportOutcome,
    Segment,
    SegmentKey,
    SegmentState,
    SegmentWork,
    SubmitRecord,
    Template,
    TemplateEngine,
    derive_status,
    new_message_id,
)
from smsgw.store.sqlite import SqliteStore

__all__ = [
    "CallbackAttempt",
    "CallbackState",
    "DuplicateMessage",
    "IMessageStore",
    "Inbound",
    "InboundKind",
    "InvalidTransition",
    "MemoryStore",
    "Message",
    "MessageStatus",
    "Mode",
    "Recipient",
    "ReportMatch",
    "ReportOutcome",
    "SchemaTooNew",
    "Segment",
    "SegmentKey",
    "SegmentState",
    "SegmentWork",
    "SqliteStore",
    "StoreClosed",
    "StoreError",
    "SubmitRecord",
    "Template",
    "TemplateEngine",
    "TemplateExists",
    "UnknownCallback",
    "UnknownSegment",
    "derive_status",
    "new_message_id",
]
