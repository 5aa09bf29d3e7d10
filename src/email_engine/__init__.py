"""Email Engine: a self-hosted deliverability control plane for PowerMTA and MailWizz senders."""

__version__ = "0.1.0"
