"""Adapters of the peers we talk to: PowerMTA, MailWizz, scraper-pro, alert channels, SNDS, Postmaster."""
