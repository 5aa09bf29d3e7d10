"""Reputation we measure ourselves: DNSBL listings and the SPF, DKIM, DMARC and PTR checks."""
