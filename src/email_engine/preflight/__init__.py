"""``email-engine preflight``: the deployment guide's GO/NO-GO checklist as one command."""
