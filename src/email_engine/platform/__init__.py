"""What every domain may use and that imports no domain.

Request guard, client address, rate limits, HTTP metrics, job spec, runner and leader lease (and the
tables they keep), the upsert and lease helpers, settings access, the shared schema bases, HMAC
signing, and the records of health and preflight checks with their probes live here. Domains import
this package; it never imports a domain (checked by the import contracts in ``pyproject.toml``; the
map is in DEVELOPING.md).
"""
