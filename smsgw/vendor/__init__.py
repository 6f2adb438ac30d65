"""HTTP vendor channels described by XML files (issue 12).

One XML file per vendor describes its HTTP API without code: the operations'
paths, methods and parameter names, how the password and the content are
encoded, how to read its answers and its result codes, and how reports and
MOs arrive.  :mod:`.loader` reads and validates a file into the typed model of
:mod:`.description`; :mod:`.codec` builds requests and reads answers (pure, no
Twisted); :mod:`.sim` plays a vendor for the simulator; :mod:`.client` talks to
one.  The shipped files are in ``smsgw/vendor/files/``; the top-level
``plugins/`` folder of a checkout is the site drop-in folder.
"""
