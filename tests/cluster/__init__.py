"""Several SP nodes on real Redis and PostgreSQL servers (smsgw.servers starts them).

Every test here skips, naming what is missing, where Debian's redis-server or
postgresql packages (or the psycopg/redis Python packages) are not installed.
"""
