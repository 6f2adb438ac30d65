"""Several SP nodes on one Redis: shared TPS buckets and session leases (docs/architecture.md).

:class:`~smsgw.cluster.coordinator.Coordinator` is the entry point: one per
node, handed to every :class:`~smsgw.sp.channel.Channel`.
"""

from __future__ import annotations

from smsgw.cluster.bucket import SharedBucket
from smsgw.cluster.coordinator import Coordinator
from smsgw.cluster.leases import Lease, Leases

__all__ = ["Coordinator", "Lease", "Leases", "SharedBucket"]
