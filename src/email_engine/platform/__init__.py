"""What every domain may use and that imports no domain.

Request guard, client address, rate limits, job spec, runner and leader lease, the upsert and lease
helpers, settings access and the shared schema bases live here. Domains import this package; it never
imports a domain (checked by the import contracts in ``pyproject.toml``).
"""
