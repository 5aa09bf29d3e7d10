"""Reputation from the mailbox providers themselves, joined into one daily series per IP, sending
domain and provider: our accounting rates and ARF complaints (feedback), SNDS (Microsoft), Gmail's
Postmaster Tools statistics and DMARC aggregate reports; and the pure decisions drawn from it."""
