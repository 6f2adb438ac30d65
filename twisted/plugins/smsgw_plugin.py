"""The ``twistd smsgw`` plugin; ``smsgw.tap`` is imported only when the plugin runs."""

from twisted.application.service import ServiceMaker

smsgw = ServiceMaker(
    "smsgw",
    "smsgw.tap",
    "SMS gateway (SP role) and carrier simulators (ismg-sim, gns-sim)",
    "smsgw",
)
