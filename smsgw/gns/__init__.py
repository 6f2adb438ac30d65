"""The GNS (汇接网关, Gateway Name Server) simulator and its ISMG-side client.

Seed 002 §4, §5 and §8.6: ISMGs ask the GNS where to forward an MT (by the
destination's number segment) or an MO (by the SP's service code), page
through its whole table, propose route changes; the GNS pushes confirmed
changes to every ISMG.  All of it over CMPP 2.0 short connections on port 9168.

* :mod:`smsgw.gns.routes` — the route table (pure, no Twisted);
* :mod:`smsgw.gns.server` — the GNS face on the session engine, and pushes;
* :mod:`smsgw.gns.client` — the ISMG side: queries, updates, a push receiver;
* :mod:`smsgw.gns.control` — the JSON control API;
* :mod:`smsgw.gns.config` — the ``[gns]`` configuration (the service tree is
  :mod:`smsgw.roles.gns_sim`).
"""
