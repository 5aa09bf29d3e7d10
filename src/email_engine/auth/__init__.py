"""Users, API keys, JWT sessions, roles and the audit log."""
