"""Operator alerts: deduplicated conditions, reminders, "resolved" messages, delivered through the outbox."""
