"""MailWizz: its REST API (subscribers, campaigns) and its MySQL side (delivery-server quotas)."""
