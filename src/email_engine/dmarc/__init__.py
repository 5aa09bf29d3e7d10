"""DMARC aggregate reports: safe reading (files, API, IMAP), storage per source IP and day, sources."""
