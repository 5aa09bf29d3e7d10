"""Google Postmaster Tools API v2: daily domain statistics and compliance status of verified domains.

What v2 no longer provides (docs/reputation-signals.md): the IP reputation and domain reputation of
v1's ``trafficStats`` were retired with the v1 API at the end of 2025 (Google's migration guide,
https://developers.google.com/workspace/gmail/postmaster/guides/migration-v2); there is no per-IP
data at all, so nothing here invents one.
"""
