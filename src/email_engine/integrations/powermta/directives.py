"""PowerMTA's configuration vocabulary, in one place for the renderer and the linter.

Names follow PowerMTA's User's Guide (v4.0, v4.5 and v5.0; public copies listed in
docs/powermta.md, "Sources") and public configurations. The renderer only writes names found here;
the linter reports any other name as unknown, so a typo never reaches ``pmta reload`` unnoticed.

A configuration is a sequence of lines. A line is a comment (``#``), a directive (``name value…``),
an opening tag (``<tag argument>``) or a closing tag (``</tag>``). Blocks nest (``<domain>`` inside
``<virtual-mta>``); :data:`BLOCKS` says where each block may appear.
"""

from __future__ import annotations

from typing import Final

from email_engine.feedback.bounce import CATEGORIES

__all__ = [
    "ACCT_FILE_DIRECTIVES",
    "BLOCKS",
    "BOUNCE_CATEGORIES",
    "DOMAIN_DIRECTIVES",
    "GLOBAL_DIRECTIVES",
    "PATTERN_LIST_ACTIONS",
    "POOL_DIRECTIVES",
    "SMTP_USER_DIRECTIVES",
    "SOURCE_DIRECTIVES",
    "VMTA_DIRECTIVES",
    "allowed_directives",
]

GLOBAL: Final = "global"

# Block tag -> contexts (parent tags, or "global") it may open in.
BLOCKS: Final[dict[str, frozenset[str]]] = {
    "virtual-mta": frozenset({GLOBAL}),
    "virtual-mta-pool": frozenset({GLOBAL}),
    "domain": frozenset({GLOBAL, "virtual-mta"}),
    "source": frozenset({GLOBAL}),
    "smtp-user": frozenset({GLOBAL}),
    "acct-file": frozenset({GLOBAL}),
    "smtp-pattern-list": frozenset({GLOBAL}),
    "bounce-category-patterns": frozenset({GLOBAL}),
    "feedback-loop-processor": frozenset({GLOBAL}),
    "spool": frozenset({GLOBAL}),
    "pattern-list": frozenset({GLOBAL}),
    "rewrite-list": frozenset({GLOBAL}),
    "smtp-listener": frozenset({GLOBAL}),
    "domain-macro": frozenset({GLOBAL}),
    "virtual-mta-pool-list": frozenset({GLOBAL}),
}

GLOBAL_DIRECTIVES: Final[frozenset[str]] = frozenset(
    {
        "postmaster",
        "host-name",
        "smtp-listener",
        "http-mgmt-port",
        "http-access",
        "http-redirect-to-https",
        "run-as-root",
        "log-file",
        "log-rotate",
        "spool",
        "sync-msg-create",
        "sync-msg-update",
        "include",
        "domain-macro",
        "mx-rollup",
        "smtp-source-host",
        "domain-key",
        "default-virtual-mta",
        "total-max-smtp-out",
        "total-max-smtp-in",
        "max-smtp-out",
        "relay-domain",
        "bounce-category-patterns",
        "pickup",
        "smtp-server-tls-certificate",
        "smtp-client-tls-certificate",
        "dns-cache-size",
        "dns-retry-interval",
        "dns-servers",
        "use-unencrypted-plain-auth",
        "deliver-local-dsn",
        "smtp-pattern-list",
    }
)

SOURCE_DIRECTIVES: Final[frozenset[str]] = frozenset(
    {
        "always-allow-relaying",
        "always-allow-api-submission",
        "smtp-service",
        "require-auth",
        "allow-unencrypted-plain-auth",
        "allow-starttls",
        "require-starttls-before-auth",
        "process-x-virtual-mta",
        "process-x-job",
        "process-x-envid",
        "retain-x-virtual-mta",
        "retain-x-job",
        "default-virtual-mta",
        "log-connections",
        "log-commands",
        "log-data",
        "add-received-header",
        "add-message-id-header",
        "add-date-header",
        "hide-message-source",
        "remove-received-headers",
        "max-message-size",
        "jobid-header",
        "suppress-local-dsn",
        "verp-default",
        "pattern-list",
        "rewrite-list",
    }
)

DOMAIN_DIRECTIVES: Final[frozenset[str]] = frozenset(
    {
        "max-msg-rate",
        "max-msg-per-connection",
        "max-smtp-out",
        "max-connect-rate",
        "max-rcpt-per-message",
        "max-errors-per-connection",
        "max-data-volume-rate",
        "source-ip-max-msg-rate",
        "retry-after",
        "retry-recipients-after",
        "retry-after-dns-error",
        "bounce-after",
        "backoff-max-msg-rate",
        "backoff-max-msg-per-hour",
        "backoff-max-data-volume-rate",
        "backoff-retry-after",
        "backoff-to-normal-after",
        "backoff-to-normal-after-delivery",
        "backoff-notify",
        "backoff-upon-all-sources-disabled",
        "smtp-pattern-list",
        "smtp-421-means-mx-unavailable",
        "mx-connection-attempts",
        "dkim-sign",
        "dkim-identity",
        "dkim-identity-fallback",
        "dkim-algorithm",
        "dk-sign",
        "use-starttls",
        "require-starttls",
        "bounce-upon-no-mx",
        "bounce-upon-5xx-greeting",
        "bounce-upon-transfer-failure",
        "queue-to",
        "queue-priority",
        "route",
        "smtp-hosts",
        "disable-mx-rollup",
        "log-connections",
        "log-commands",
        "log-resolution",
        "log-transfer-failures",
        "max-events-recorded",
        "deliver-local-dsn",
        "disabled-source-ip-notify",
        "ignore-8bitmime",
        "connect-timeout",
        "smtp-greeting-timeout",
        "data-send-timeout",
        "include",
        "type",
        # Further <domain> settings from the guide's directive reference (known, not rendered).
        "smtp-553-means-invalid-mailbox",
        "max-cold-virtual-mta-msg",
        "max-msg-per-hour",
        "check-spf-outbound",
        "dsn-format",
        "log-disabled-ips",
        "disable-acct-records",
        "bcc-upon-delivery",
        "allow-priority-interruption",
        "allow-priority-interruption-during-transfer",
        "track-recipient-events",
        "notify-of-delay-every",
        "delivery-priority",
        "dkim-add-body-limit",
        "dkim-add-timestamp",
        "dkim-body-canon",
        "dkim-headers-canon",
        "dkim-expire-after",
        "dkim-query-method",
        "dkim-headers",
        "dkim-disallow-adding-headers",
        "max-smtp-out-per-ip",
        "use-unencrypted-plain-auth",
        "auth-username",
        "auth-password",
        "smtp-port",
    }
)

VMTA_DIRECTIVES: Final[frozenset[str]] = frozenset(
    {"smtp-source-host", "domain-key", "host-name", "max-smtp-out", "include"}
)

POOL_DIRECTIVES: Final[frozenset[str]] = frozenset({"virtual-mta"})

SMTP_USER_DIRECTIVES: Final[frozenset[str]] = frozenset({"password", "source", "authentication-method"})

ACCT_FILE_DIRECTIVES: Final[frozenset[str]] = frozenset(
    {
        "records",
        "record-fields",
        "max-size",
        "move-interval",
        "move-to",
        "delete-after",
        "user-string",
        "world-readable",
        "sync",
    }
)

SPOOL_DIRECTIVES: Final[frozenset[str]] = frozenset({"delete-file-holders", "min-free-space"})

# Inside <smtp-pattern-list>: "reply /regex/ action…" (also "mail-from", "rcpt-to"…).
PATTERN_LIST_ACTIONS: Final[frozenset[str]] = frozenset({"reply", "greeting", "mail-from", "rcpt-to"})
PATTERN_LIST_MODES: Final[frozenset[str]] = frozenset(
    {"mode=backoff", "mode=normal", "disable-source-ip", "backoff-to-normal-after"}
)

# PowerMTA's bounce categories: the classifier's list (one source of truth) plus "success".
BOUNCE_CATEGORIES: Final[frozenset[str]] = frozenset({*CATEGORIES, "success"})

# Accounting record types written by <acct-file> (records d,b,…).
ACCT_RECORD_TYPES: Final[frozenset[str]] = frozenset({"d", "b", "t", "tq", "r", "f", "rb", "rs"})

# Blocks whose body is not made of directives (each line is a pattern).
PATTERN_BLOCKS: Final[frozenset[str]] = frozenset({"bounce-category-patterns"})

_BY_CONTEXT: Final[dict[str, frozenset[str]]] = {
    GLOBAL: GLOBAL_DIRECTIVES,
    "source": SOURCE_DIRECTIVES,
    "domain": DOMAIN_DIRECTIVES,
    "virtual-mta": VMTA_DIRECTIVES | DOMAIN_DIRECTIVES,
    "virtual-mta-pool": POOL_DIRECTIVES,
    "smtp-user": SMTP_USER_DIRECTIVES,
    "acct-file": ACCT_FILE_DIRECTIVES,
    "spool": SPOOL_DIRECTIVES,
    "smtp-pattern-list": PATTERN_LIST_ACTIONS,
    "pattern-list": PATTERN_LIST_ACTIONS,
    "rewrite-list": frozenset({"mail-from", "rcpt-to", "header-from"}),
    "feedback-loop-processor": frozenset({"deliver-unmatched-email", "deliver-matched-email"}),
    "smtp-listener": frozenset({"tls-certificate", "smtp-service"}),
}


def allowed_directives(context: str) -> frozenset[str]:
    """Directive names PowerMTA accepts directly inside ``context`` ("global" or a block tag)."""
    return _BY_CONTEXT.get(context, frozenset())
