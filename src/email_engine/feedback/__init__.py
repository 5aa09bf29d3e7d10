"""PowerMTA accounting: ingest, bounce classification, statistics, suppression, feedback events."""
