"""The wiring floor: each ``twistd smsgw --role`` as a service tree.

* :mod:`smsgw.roles.sp` — the SP gateway: store, channels, gateway, callbacks, HTTP API;
* :mod:`smsgw.roles.ismg_sim` — the fake ISMG: a listener per protocol and the control API;
* :mod:`smsgw.roles.gns_sim` — the fake GNS: its CMPP listener and the control API.

Each module has ``make_service(options, config, reactor)``; :mod:`smsgw.tap`
parses the command line and picks one.  Nothing below this floor imports it.
"""
