"""Real-world SMTP responses as providers publish them (postmaster pages, public error-code references, issue
threads), beyond the shared Sisimai corpus. Addresses are replaced by example ones and IPs by documentation
ranges; the wording is the provider's. Each row: (provider, dsnStatus, response text, expected PowerMTA category).

The expected category is what the response MEANS (who or what was refused), decided from the provider's own
explanation of the code, not from what the classifier says.
"""

from __future__ import annotations

from email_engine.feedback.bounce import BLOCK_CATEGORIES, HARD_CATEGORIES, BounceType

IP = "198.51.100.7"

RESPONSES: list[tuple[str, str, str, str]] = [
    # ------------------------------------------------------------------ Gmail / Google Workspace
    (
        "gmail",
        "5.1.1",
        "550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 double-checking the recipient's email address for typos or 550-5.1.1 unnecessary spaces. Learn more at 550 5.1.1 https://support.google.com/mail/?p=NoSuchUser a1si123.456 - gsmtp",
        "bad-mailbox",
    ),
    (
        "gmail",
        "5.1.1",
        "550 5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. Learn more at https://support.google.com/mail/?p=NoSuchUser",
        "bad-mailbox",
    ),
    (
        "gmail",
        "5.2.1",
        "550 5.2.1 The email account that you tried to reach is disabled. Learn more at https://support.google.com/mail/?p=DisabledUser",
        "inactive-mailbox",
    ),
    (
        "gmail",
        "5.2.1",
        "550 5.2.1 The email account that you tried to reach is inactive. For more information, go to https://support.google.com/mail/?p=DisabledUser",
        "inactive-mailbox",
    ),
    (
        "gmail",
        "4.2.1",
        "450 4.2.1 The user you are trying to contact is receiving mail too quickly. Please resend your message at a later time.",
        "policy-related",
    ),
    (
        "gmail",
        "4.2.1",
        "450 4.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered. Please resend your message at a later time.",
        "policy-related",
    ),
    (
        "gmail",
        "4.2.2",
        "452 4.2.2 The email account that you tried to reach is over quota. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaTemp",
        "quota-issues",
    ),
    (
        "gmail",
        "5.2.2",
        "552 5.2.2 The recipient's inbox is out of storage space. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaPerm",
        "quota-issues",
    ),
    (
        "gmail",
        "5.2.3",
        "552 5.2.3 Your message exceeded Google's message size limits. To view our message size guidelines, go to https://support.google.com/mail/?p=MaxSizeError",
        "quota-issues",
    ),
    (
        "gmail",
        "4.7.0",
        "421 4.7.0 Our system has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been temporarily blocked.",
        "spam-related",
    ),
    (
        "gmail",
        "4.7.28",
        "421 4.7.28 Gmail has detected an unusual rate of unsolicited mail originating from your DKIM domain [example.com 10]. To protect our users from spam, mail sent from your domain has been temporarily rate limited.",
        "spam-related",
    ),
    (
        "gmail",
        "5.7.28",
        "550 5.7.28 There is an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been blocked.",
        "spam-related",
    ),
    (
        "gmail",
        "5.7.26",
        "550 5.7.26 Unauthenticated email from example.com is not accepted due to domain's DMARC policy. Please contact the administrator of example.com domain if this was a legitimate mail.",
        "policy-related",
    ),
    (
        "gmail",
        "5.7.26",
        "550 5.7.26 This mail has been blocked because the sender is unauthenticated. Gmail requires all senders to authenticate with either SPF or DKIM.",
        "policy-related",
    ),
    (
        "gmail",
        "5.7.26",
        f"550 5.7.26 The MAIL FROM domain [example.com] has an SPF record with a hard fail policy (-all) but it fails to pass SPF checks with the ip: [{IP}].",
        "policy-related",
    ),
    (
        "gmail",
        "5.7.25",
        "550 5.7.25 The IP address sending this message does not have a PTR record setup, or the corresponding forward DNS entry does not point to the sending IP.",
        "policy-related",
    ),
    (
        "gmail",
        "4.7.24",
        "451 4.7.24 The SPF record of the sending domain has one or more suspicious entries. To protect our users from spam, mail sent from your IP address has been temporarily rate limited.",
        "policy-related",
    ),
    (
        "gmail",
        "4.7.26",
        "421 4.7.26 This mail has been rate limited because it is unauthenticated. Gmail requires all senders to authenticate with either SPF or DKIM.",
        "policy-related",
    ),
    (
        "gmail",
        "4.7.27",
        "421 4.7.27 Your email has been rate limited because SPF authentication didn't pass for this message. Gmail requires all bulk email senders to authenticate with SPF.",
        "policy-related",
    ),
    (
        "gmail",
        "5.7.30",
        "550 5.7.30 Your email has been blocked because DKIM authentication didn't pass for this message. Gmail requires all bulk email senders to authenticate with DKIM.",
        "policy-related",
    ),
    (
        "gmail",
        "4.7.32",
        "421 4.7.32 Your email has been rate limited because the From: header (RFC5322) in this message isn't aligned with either the authenticated SPF or DKIM organizational domain.",
        "policy-related",
    ),
    (
        "gmail",
        "5.7.1",
        f"550 5.7.1 [{IP}] Our system has detected that this message is likely unsolicited mail. To reduce the amount of spam sent to Gmail, this message has been blocked.",
        "spam-related",
    ),
    (
        "gmail",
        "5.7.1",
        f"550 5.7.1 [{IP} 12] Our system has detected that this message is likely suspicious due to the very low reputation of the sending IP address.",
        "spam-related",
    ),
    (
        "gmail",
        "5.7.1",
        f"550 5.7.1 [{IP}] Our system has detected that this message is likely suspicious due to the very low reputation of the sending domain.",
        "spam-related",
    ),
    (
        "gmail",
        "5.7.0",
        "552 5.7.0 This message was blocked because its content presents a potential security issue. Please visit https://support.google.com/mail/?p=BlockedMessage to review our message content and attachment content guidelines.",
        "content-related",
    ),
    (
        "gmail",
        "5.7.1",
        "550 5.7.1 Messages with multiple addresses in From: header are not accepted.",
        "content-related",
    ),
    (
        "gmail",
        "5.7.1",
        "550 5.7.1 This message is not RFC 5322 compliant. There are multiple Subject headers. To reduce the amount of spam sent to Gmail, this message has been blocked.",
        "content-related",
    ),
    ("gmail", "4.7.0", "421 4.7.0 TLS required for RCPT domain, closing connection.", "policy-related"),
    ("gmail", "4.4.5", "421 4.4.5 Server busy, try again later.", "bad-connection"),
    ("gmail", "4.7.0", "421 4.7.0 Try again later, closing connection.", "bad-connection"),
    (
        "gmail",
        "5.4.5",
        "550 5.4.5 Daily user sending limit exceeded. For more information on Gmail sending limits go to https://support.google.com/a/answer/166852",
        "policy-related",
    ),
    (
        "gmail",
        "5.7.1",
        "550 5.7.1 The user or domain that you are sending to (or from) has a policy that prohibited the mail that you sent.",
        "policy-related",
    ),
    (
        "gmail",
        "4.7.0",
        "421 4.7.0 IP not in whitelist for RCPT domain, closing connection.",
        "policy-related",
    ),
    # ------------------------------------------------------------------ Microsoft (Outlook.com, Hotmail, Office 365)
    (
        "microsoft",
        "5.7.606",
        f"550 5.7.606 Access denied, banned sending IP [{IP}]. To request removal from this list please visit https://sender.office.com/ and follow the directions.",
        "spam-related",
    ),
    (
        "microsoft",
        "5.7.1",
        f"550 5.7.1 Unfortunately, messages from [{IP}] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150). You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors.",
        "spam-related",
    ),
    (
        "microsoft",
        "5.7.1",
        f"550 5.7.1 Unfortunately, messages from [{IP}] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3140). You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors. [DM6NAM12FT056.eop-nam12.prod.protection.outlook.com]",
        "spam-related",
    ),
    (
        "microsoft",
        "4.7.650",
        f"451 4.7.650 The mail server [{IP}] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://postmaster.live.com (S775) [BN1NAM02FT014.eop-nam02.prod.protection.outlook.com]",
        "spam-related",
    ),
    (
        "microsoft",
        "4.7.651",
        f"451 4.7.651 The mail server [{IP}] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://postmaster.live.com (S843)",
        "spam-related",
    ),
    (
        "microsoft",
        "4.7.500",
        f"451 4.7.500 Server busy. Please try again later from [{IP}]. (S77719) [AM5EUR02FT010.eop-EUR02.prod.protection.outlook.com]",
        "spam-related",
    ),
    (
        "microsoft",
        "5.7.1",
        f"550 5.7.1 Service unavailable, Client host [{IP}] blocked using Spamhaus. To request removal from this list see https://www.spamhaus.org/query/ip/{IP} (AS3130).",
        "spam-related",
    ),
    (
        "microsoft",
        "5.7.511",
        f"550 5.7.511 Access denied, banned sender[{IP}]. To request removal from this list, forward this message to delist@messaging.microsoft.com.",
        "spam-related",
    ),
    (
        "microsoft",
        "5.7.509",
        "550 5.7.509 Access denied, sending domain [EXAMPLE.COM] does not pass DMARC verification and has a DMARC policy of reject.",
        "policy-related",
    ),
    (
        "microsoft",
        "5.7.515",
        "550 5.7.515 Access denied, sending domain [EXAMPLE.COM] doesn't meet the required authentication level. The sender's domain in the 5322.From address doesn't meet the authentication requirements defined for the sender.",
        "policy-related",
    ),
    (
        "microsoft",
        "5.7.705",
        "550 5.7.705 Access denied, tenant has exceeded threshold. The majority of traffic from this tenant has been detected as suspicious.",
        "spam-related",
    ),
    (
        "microsoft",
        "5.7.708",
        "550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP.",
        "spam-related",
    ),
    (
        "microsoft",
        "5.7.750",
        "550 5.7.750 Service unavailable. Client blocked from sending from unregistered domains.",
        "policy-related",
    ),
    (
        "microsoft",
        "5.7.510",
        "550 5.7.510 Access denied, example.org does not accept email over IPv6",
        "policy-related",
    ),
    (
        "microsoft",
        "5.7.57",
        "530 5.7.57 Client not authenticated to send mail. Error: 535 5.7.139 Authentication unsuccessful",
        "policy-related",
    ),
    ("microsoft", "5.7.64", "550 5.7.64 TenantAttribution; Relay Access Denied", "relaying-issues"),
    (
        "microsoft",
        "5.4.1",
        "550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [DM6NAM12FT021.eop-nam12.prod.protection.outlook.com]",
        "bad-mailbox",
    ),
    (
        "microsoft",
        "5.1.10",
        "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient someone@example.org not found by SMTP address lookup",
        "bad-mailbox",
    ),
    ("microsoft", "5.1.1", "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found", "bad-mailbox"),
    (
        "microsoft",
        "5.5.0",
        "550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). [BN8NAM12FT048.eop-nam12.prod.protection.outlook.com]",
        "bad-mailbox",
    ),
    (
        "microsoft",
        "5.2.2",
        "554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException.MapiExceptionShutoffQuotaExceeded",
        "quota-issues",
    ),
    (
        "microsoft",
        "5.2.3",
        "550 5.2.3 RESOLVER.RST.RecipSizeLimit; message too large for this recipient",
        "quota-issues",
    ),
    ("microsoft", "5.7.1", "550 5.7.1 RESOLVER.RST.AuthRequired; authentication required", "policy-related"),
    ("microsoft", "5.7.1", "550 5.7.1 RESOLVER.RST.NotAuthorized; not authorized", "policy-related"),
    ("microsoft", "4.4.7", "550 4.4.7 QUEUE.Expired; message expired", "message-expired"),
    (
        "microsoft",
        "5.4.316",
        "550 5.4.316 Message expired, connection refused(Socket error code 10061)",
        "message-expired",
    ),
    ("microsoft", "5.4.312", "550 5.4.312 Message expired, DNS query failed", "message-expired"),
    (
        "microsoft",
        "5.7.520",
        "550 5.7.520 Access denied, Your organization does not allow external forwarding. Please contact your administrator for further assistance. AS(7555)",
        "policy-related",
    ),
    (
        "microsoft",
        "5.6.211",
        "554 5.6.211 Invalid MIME Content: Single text value size (32804) exceeded allowed maximum (32768) for the 'X-Header' header",
        "content-related",
    ),
    ("microsoft", "5.7.12", "550 5.7.12 Sender was not authenticated by organization", "policy-related"),
    (
        "microsoft",
        "5.7.133",
        "550 5.7.133 RESOLVER.RST.SenderNotAuthenticatedForGroup; authentication required; Delivery restriction check failed because the sender was not authenticated when sending to this group",
        "policy-related",
    ),
    (
        "microsoft",
        "5.7.23",
        "550 5.7.23 The message was rejected because of Sender Policy Framework violation",
        "policy-related",
    ),
    (
        "hotmail",
        "5.0.0",
        f"550 SC-001 (BAY004-MC4F49) Unfortunately, messages from {IP} weren't sent. Please contact your Internet service provider since part of their network is on our block list. You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors.",
        "spam-related",
    ),
    (
        "hotmail",
        "5.0.0",
        f"550 SC-004 (COL0-MC1-F1) Unfortunately, messages from {IP} weren't sent. We recommend that you contact your Internet service provider. The problem is that too many unwanted messages have been sent from the following IP address above.",
        "spam-related",
    ),
    (
        "hotmail",
        "5.0.0",
        f"550 DY-001 (SNT004-MC1F43) Unfortunately, messages from {IP} weren't sent. Please contact your Internet service provider. You can tell them that Hotmail does not relay dynamically-assigned IP ranges.",
        "policy-related",
    ),
    (
        "hotmail",
        "5.0.0",
        f"550 OU-002 (COL004-MC1F41) Unfortunately, messages from {IP} weren't sent. Please contact your Internet service provider. You can tell them that Hotmail does not relay dial-up or direct-to-MX traffic from the IP.",
        "policy-related",
    ),
    # ------------------------------------------------------------------ Yahoo / AOL
    (
        "yahoo",
        "4.7.0",
        f"421 4.7.0 [TSS04] Messages from {IP} temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes",
        "spam-related",
    ),
    (
        "yahoo",
        "4.7.0",
        f"421 4.7.0 [TSS09] All messages from {IP} will be permanently deferred; Retrying will NOT succeed. See https://postmaster.yahooinc.com/error-codes",
        "spam-related",
    ),
    (
        "yahoo",
        "4.7.1",
        f"421 4.7.1 [TS03] All messages from {IP} will be permanently deferred; Retrying will NOT succeed. See https://help.yahoo.com/kb/postmaster/SLN3436.html",
        "spam-related",
    ),
    (
        "yahoo",
        "4.7.0",
        f"421 4.7.0 [TSS04] Messages from {IP} temporarily deferred due to user complaints - 4.16.55.1; see https://help.yahoo.com/kb/postmaster/SLN3434.html",
        "spam-related",
    ),
    (
        "yahoo",
        "5.7.1",
        f"553 5.7.1 [BL21] Connections will not be accepted from {IP}, because the ip is in Spamhaus's list; see http://postmaster.yahoo.com/550-bl23.html",
        "spam-related",
    ),
    (
        "yahoo",
        "5.7.1",
        "553 5.7.1 [BL23] Connections not accepted from IP addresses on Spamhaus XBL; see http://postmaster.yahoo.com/errors/550-bl23.html [550]",
        "spam-related",
    ),
    (
        "yahoo",
        "5.7.1",
        f"553 Mail from {IP} not allowed - 5.7.1 [BL21] Connections will not be accepted from {IP}, because the ip is in Spamhaus's list",
        "spam-related",
    ),
    (
        "yahoo",
        "5.7.9",
        "554 5.7.9 Message not accepted for policy reasons. See https://postmaster.yahooinc.com/error-codes",
        "policy-related",
    ),
    (
        "yahoo",
        "5.7.9",
        "554 5.7.9 Message not accepted for policy reasons. See https://senders.yahooinc.com/error-codes",
        "policy-related",
    ),
    (
        "yahoo",
        "5.0.0",
        "554 Message not allowed - [PH01] Email not accepted for policy reasons.  Please visit https://postmaster.yahooinc.com/error-codes",
        "policy-related",
    ),
    (
        "yahoo",
        "5.0.0",
        "554 delivery error: dd This user doesn't have a yahoo.com account (someone@example.org) [0] - mta1234.mail.bf1.yahoo.com",
        "bad-mailbox",
    ),
    (
        "yahoo",
        "5.0.0",
        "554 delivery error: dd Sorry your message to someone@example.org cannot be delivered. This mailbox is disabled (554.30). - mta1040.mail.ne1.yahoo.com",
        "inactive-mailbox",
    ),
    (
        "yahoo",
        "5.0.0",
        "554 delivery error: dd Sorry your message to someone@example.org cannot be delivered. This account has been disabled or discontinued [#102]. - mta1152.mail.gq1.yahoo.com",
        "inactive-mailbox",
    ),
    ("aol", "5.7.1", "550 5.7.1 Unauthenticated email is not accepted from this domain.", "policy-related"),
    (
        "yahoo",
        "5.1.1",
        "554 5.1.1 <someone@example.org>: Recipient address rejected: mailbox unavailable",
        "bad-mailbox",
    ),
    # ------------------------------------------------------------------ Apple iCloud
    (
        "apple",
        "5.7.1",
        "550 5.7.1 [CS01] Message rejected due to local policy. Please visit https://support.apple.com/en-us/HT204137",
        "spam-related",
    ),
    (
        "apple",
        "5.7.1",
        "554 5.7.1 [HM08] Message rejected due to local policy. Please visit https://support.apple.com/en-us/HT204137",
        "spam-related",
    ),
    (
        "apple",
        "5.7.1",
        "550 5.7.1 [CS02] Message rejected due to local policy. Please visit https://support.apple.com/en-us/HT204137",
        "spam-related",
    ),
    ("apple", "5.1.1", "550 5.1.1 <someone@example.org>: user does not exist", "bad-mailbox"),
    ("apple", "5.1.1", "550 5.1.1 <someone@example.org>: inactive email address", "inactive-mailbox"),
    ("apple", "5.2.2", "552 5.2.2 <someone@example.org>: user is over quota", "quota-issues"),
    (
        "apple",
        "4.7.1",
        "421 4.7.1 Messages to someone@example.org deferred due to excessive volume. Try again later - https://support.apple.com/en-us/HT204137",
        "policy-related",
    ),
    ("apple", "4.7.0", "421 4.7.0 me.com Error: too many errors", "bad-connection"),
    ("apple", "4.7.1", "451 4.7.1 Service unavailable - try again later", "bad-connection"),
    (
        "apple",
        "5.7.1",
        "550 5.7.1 Your message was rejected due to example.com's DMARC policy. See https://support.apple.com/en-us/HT204137",
        "policy-related",
    ),
    (
        "apple",
        "5.7.1",
        "550 5.7.1 Your email was rejected due to having a domain present in the Spamhaus DBL -- see https://www.spamhaus.org/dbl/",
        "spam-related",
    ),
    # ------------------------------------------------------------------ GMX / Web.de / 1&1 / mail.com (United Internet)
    (
        "gmx",
        "5.0.0",
        f"554-gmx.net (mxgmx104) Nemesis ESMTP Service not available 554-No SMTP service 554-IP address is block listed. 554 For explanation visit https://postmaster.gmx.net/en/case?c=r0201&i=ip&v={IP}&r=1MNcgj-1ue23t3pyV-00S2YR",
        "spam-related",
    ),
    ("gmx", "5.0.0", "550 Requested action not taken: mailbox unavailable", "bad-mailbox"),
    (
        "webde",
        "5.0.0",
        f"554-web.de (mxweb112) Nemesis ESMTP Service not available 554-No SMTP service 554-Bad DNS PTR resource record. 554 For explanation visit https://postmaster.web.de/en/case?c=r0230&i=ip&v={IP}",
        "policy-related",
    ),
    (
        "gmx",
        "4.0.0",
        f"421-mx.gmx.net (mxgmx005) Nemesis ESMTP Service not available 421-Service unavailable 421-Reject due to policy restrictions. 421 For explanation visit https://postmaster.gmx.net/en/case?c=hi&i=ip&v={IP}",
        "policy-related",
    ),
    ("webde", "5.2.2", "552 Requested mail action aborted: exceeded storage allocation", "quota-issues"),
    (
        "webde",
        "5.0.0",
        "550 Benutzer hat das Speichervolumen ueberschritten. / User has exhausted allowed storage space.",
        "quota-issues",
    ),
    ("webde", "5.0.0", "550 Benutzer nicht bekannt/User unknown", "bad-mailbox"),
    (
        "1und1",
        "5.0.0",
        f"550 Mail size limit exceeded. For explanation visit http://postmaster.1and1.com/en/error-messages?ip={IP}",
        "quota-issues",
    ),
    ("gmx", "5.2.1", "550 5.2.1 <someone@example.org>... User is inactive", "inactive-mailbox"),
    ("gmx", "5.1.1", "550 5.1.1 <someone@example.org>... User is unknown", "bad-mailbox"),
    (
        "mailcom",
        "5.0.0",
        "554-mail.com (mxgmxus002) Nemesis ESMTP Service not available 554-No SMTP service 554-Bad DNS PTR resource record.",
        "policy-related",
    ),
    (
        "webde",
        "5.0.0",
        "550 Benutzer hat zuviele Mails auf dem Server. / User has too many messages on the server.",
        "quota-issues",
    ),
    # ------------------------------------------------------------------ T-Online
    (
        "t-online",
        "5.0.0",
        f"554 IP={IP} - A problem occurred. (Ask your postmaster for help or to contact tosa@rx.t-online.de to clarify.) (BL)",
        "spam-related",
    ),
    (
        "t-online",
        "5.0.0",
        f"554 IP={IP} - None/bad reputation. Ask your postmaster for help or to contact <postmaster@rx.t-online.de> for reset. (NOWL)",
        "spam-related",
    ),
    ("t-online", "5.1.1", "550 5.1.1 user unknown", "bad-mailbox"),
    ("t-online", "5.2.2", "552 5.2.2 Over STORAGE quota", "quota-issues"),
    # ------------------------------------------------------------------ Orange / Wanadoo / La Poste
    ("orange", "5.2.0", "550 5.2.0 Mail rejete. Mail rejected. ofr_506 [506]", "spam-related"),
    (
        "orange",
        "4.0.0",
        "421 mwinf5c77 ME Service refuse. Veuillez essayer plus tard. Service refused, please try later. OFR_999 [999]",
        "bad-connection",
    ),
    (
        "orange",
        "4.0.0",
        "421 mwinf5c10 ME Trop de connexions, veuillez verifier votre configuration. Too many connections, slow down. OFR004_104 [104]",
        "bad-connection",
    ),
    (
        "orange",
        "5.0.0",
        f"550 mwinf5c04 ME Adresse IP source bloquee pour incident de spam. Client host blocked for spamming issues. OFR006_102 Ref http://csi.cloudmark.com/reset-request/?ip={IP} [102]",
        "spam-related",
    ),
    (
        "orange",
        "5.1.1",
        "550 5.1.1 Adresse d au moins un destinataire invalide. Invalid recipient. OFR_416 [416]",
        "bad-mailbox",
    ),
    (
        "orange",
        "5.1.1",
        "552 5.1.1 Boite du destinataire pleine. Recipient mailbox full. OFR_417 [417]",
        "quota-issues",
    ),
    (
        "laposte",
        "5.5.0",
        "550 5.5.0 Le compte du destinataire est bloque. The recipient account is blocked. LPN007_426",
        "inactive-mailbox",
    ),
    (
        "laposte",
        "5.5.0",
        "550 5.5.0 Adresse destinataire invalide. Invalid recipient. LPN007_416",
        "bad-mailbox",
    ),
    # ------------------------------------------------------------------ Free / SFR
    ("free", "5.0.0", "550 spam detected", "spam-related"),
    (
        "free",
        "5.7.1",
        f"550 5.7.1 Too many spams from your IP ({IP}), please visit http://postmaster.free.fr/",
        "spam-related",
    ),
    (
        "free",
        "5.1.1",
        "550 5.1.1 <someone@example.org>: Recipient address rejected: User unknown in local recipient table",
        "bad-mailbox",
    ),
    (
        "free",
        "4.7.0",
        f"421 4.7.0 Too many connections from your IP ({IP}), please visit http://postmaster.free.fr/",
        "bad-connection",
    ),
    ("sfr", "5.7.1", "550 5.7.1 Message content rejected", "content-related"),
    (
        "sfr",
        "4.7.1",
        "450 4.7.1 SFR_IN_101 Service refused due to bad behavior - Too many spam messages",
        "spam-related",
    ),
    ("sfr", "4.7.0", "421 4.7.0 msfrf2604.sfr.fr Error: too many errors", "bad-connection"),
    (
        "sfr",
        "5.1.1",
        "550 5.1.1 <someone@example.org>: Recipient address rejected: User unknown",
        "bad-mailbox",
    ),
    # ------------------------------------------------------------------ Comcast
    (
        "comcast",
        "5.0.0",
        f"554 resimta-h1p-028598.sys.comcast.net resimta-h1p-028598.sys.comcast.net {IP} found on one or more DNSBLs, see http://postmaster.comcast.net/smtp-error-codes.php#BL000001",
        "spam-related",
    ),
    (
        "comcast",
        "5.0.0",
        f"554 resimta-po-12v.sys.comcast.net comcast {IP} Comcast requires that all mail servers must have a PTR record with a valid Reverse DNS entry. Learn more at http://postmaster.comcast.net/smtp-error-codes.php#RL000001",
        "policy-related",
    ),
    ("comcast", "5.1.1", "550 5.1.1 <someone@example.org> Not our Customer", "bad-mailbox"),
    (
        "comcast",
        "4.0.0",
        f"421 resimta-ch2-18v.sys.comcast.net comcast {IP} Too many sessions opened",
        "bad-connection",
    ),
    (
        "comcast",
        "5.0.0",
        f"554 resimta-ch2-18v.sys.comcast.net comcast {IP} Comcast block for spam. Please see http://postmaster.comcast.net/smtp-error-codes.php#BL000000",
        "spam-related",
    ),
    ("comcast", "5.1.1", "550 5.1.1 <someone@example.org> is not a valid mailbox", "bad-mailbox"),
    ("comcast", "4.0.0", "421 - [Reverse DNS failure : Try again later]", "policy-related"),
    # ------------------------------------------------------------------ Mimecast
    (
        "mimecast",
        "5.0.0",
        "550 Envelope blocked - User Entry - https://community.mimecast.com/docs/DOC-1369#550 [xKzWlq8RPk2aZ8kD3fQb1A.uk160]",
        "policy-related",
    ),
    (
        "mimecast",
        "5.0.0",
        "554 Email rejected due to security policies - https://community.mimecast.com/docs/DOC-1369#554 [aBcDeF.us200]",
        "policy-related",
    ),
    (
        "mimecast",
        "5.0.0",
        "550 Invalid Recipient - https://community.mimecast.com/docs/DOC-1369#550 [aBcDeF.uk74]",
        "bad-mailbox",
    ),
    (
        "mimecast",
        "4.0.0",
        "451 Open relay not allowed - https://community.mimecast.com/docs/DOC-1369#451",
        "relaying-issues",
    ),
    (
        "mimecast",
        "5.0.0",
        "554 Host network not allowed - https://community.mimecast.com/docs/DOC-1369#554",
        "policy-related",
    ),
    (
        "mimecast",
        "5.0.0",
        "550 Rejected by header based Anti-Spoofing policy: someone@example.org - https://community.mimecast.com/docs/DOC-1369#550",
        "policy-related",
    ),
    (
        "mimecast",
        "5.0.0",
        "550 Administrative prohibition - envelope blocked - https://community.mimecast.com/docs/DOC-1369#550",
        "policy-related",
    ),
    # ------------------------------------------------------------------ Proofpoint / Cloudmark
    (
        "proofpoint",
        "5.7.1",
        f"554 5.7.1 Blocked - see https://ipcheck.proofpoint.com/?ip={IP}",
        "spam-related",
    ),
    (
        "proofpoint",
        "5.7.1",
        f"521 5.7.1 Blocked - see https://ipcheck.proofpoint.com/?ip={IP}",
        "spam-related",
    ),
    ("proofpoint", "5.1.1", "550 5.1.1 User Unknown", "bad-mailbox"),
    # ------------------------------------------------------------------ Barracuda
    (
        "barracuda",
        "5.0.0",
        f"554 Service unavailable; Client host [{IP}] blocked using Barracuda Reputation; http://www.barracudanetworks.com/reputation/?pr=1&ip={IP}",
        "spam-related",
    ),
    (
        "barracuda",
        "5.0.0",
        "550 permanent failure for one or more recipients (someone@example.org:blocked)",
        "spam-related",
    ),
    (
        "barracuda",
        "4.7.1",
        f"421 4.7.1 Service unavailable; Client host [{IP}] temporarily blocked using Barracuda Reputation",
        "spam-related",
    ),
    (
        "barracuda",
        "5.7.1",
        f"554 5.7.1 Service unavailable; Client host [{IP}] blocked using b.barracudacentral.org",
        "spam-related",
    ),
    # ------------------------------------------------------------------ public DNSBLs quoted by any server
    (
        "spamhaus",
        "5.7.1",
        f"554 5.7.1 Service unavailable; Client host [{IP}] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/{IP}",
        "spam-related",
    ),
    ("spamhaus", "5.7.1", f"550 5.7.1 Rejected: {IP} listed at zen.spamhaus.org", "spam-related"),
    (
        "spamhaus",
        "5.7.1",
        "554 5.7.1 Rejected because example.com is in a black list at dbl.spamhaus.org",
        "spam-related",
    ),
    (
        "spamcop",
        "5.7.1",
        f"554 5.7.1 Service unavailable; Client host [{IP}] blocked using bl.spamcop.net; Blocked - see https://www.spamcop.net/bl.shtml?{IP}",
        "spam-related",
    ),
    (
        "abuseat",
        "5.7.1",
        f"550 5.7.1 Service unavailable; client [{IP}] blocked using cbl.abuseat.org",
        "spam-related",
    ),
    (
        "mailspike",
        "5.7.1",
        f"554 5.7.1 Service unavailable; Client host [{IP}] blocked using bl.mailspike.net",
        "spam-related",
    ),
    (
        "sorbs",
        "5.7.1",
        f"550 5.7.1 Mail refused - {IP} - See http://www.sorbs.net/lookup.shtml?{IP}",
        "spam-related",
    ),
    # ------------------------------------------------------------------ Yandex, Mail.ru, QQ, Zoho
    (
        "yandex",
        "5.7.1",
        "550 5.7.1 Message rejected under suspicion of SPAM; https://ya.cc/1IrBc 1234567890-AbCdEfGhIj",
        "spam-related",
    ),
    (
        "mailru",
        "5.0.0",
        "550 spam message rejected. Please visit https://help.mail.ru/notspam-support/id?c=AbCdEf or report details to abuse@corp.mail.ru. Error code: 1234ABCD.",
        "spam-related",
    ),
    (
        "mailru",
        "5.0.0",
        "550 Message was not accepted -- invalid mailbox.  Local mailbox someone@example.org is unavailable: account is disabled",
        "inactive-mailbox",
    ),
    (
        "mailru",
        "5.0.0",
        "550 Message was not accepted -- invalid mailbox.  Local mailbox someone@example.org is unavailable: user not found",
        "bad-mailbox",
    ),
    (
        "qq",
        "5.0.0",
        "550 Mailbox not found. http://service.exmail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000728",
        "bad-mailbox",
    ),
    ("zoho", "5.1.1", "550 5.1.1 User does not exist - <someone@example.org>", "bad-mailbox"),
    # ------------------------------------------------------------------ common MTAs (Postfix, Exim, Sendmail, amavis)
    (
        "postfix",
        "5.1.1",
        "550 5.1.1 <someone@example.org>: Recipient address rejected: User unknown in virtual mailbox table",
        "bad-mailbox",
    ),
    ("postfix", "5.7.1", "554 5.7.1 <someone@example.org>: Relay access denied", "relaying-issues"),
    (
        "postfix",
        "4.1.2",
        "450 4.1.2 <someone@example.invalid>: Recipient address rejected: Domain not found",
        "bad-domain",
    ),
    (
        "postfix",
        "5.1.2",
        "550 5.1.2 <someone@example.invalid>: Recipient address rejected: Domain not found",
        "bad-domain",
    ),
    (
        "postfix",
        "5.1.8",
        "550 5.1.8 <bounce@example.com>: Sender address rejected: Domain not found",
        "invalid-sender",
    ),
    (
        "postfix",
        "4.7.1",
        f"450 4.7.1 Client host rejected: cannot find your hostname, [{IP}]",
        "policy-related",
    ),
    (
        "postfix",
        "4.7.1",
        f"450 4.7.1 Client host rejected: cannot find your reverse hostname, [{IP}]",
        "policy-related",
    ),
    (
        "postfix",
        "5.2.2",
        "552 5.2.2 <someone@example.org>: Recipient address rejected: Mailbox full",
        "quota-issues",
    ),
    ("postfix", "5.3.4", "552 5.3.4 Message size exceeds fixed limit", "quota-issues"),
    (
        "postfix",
        "4.4.1",
        "connect to mx.example.org[192.0.2.1]:25: Connection refused",
        "no-answer-from-host",
    ),
    (
        "postfix",
        "4.4.1",
        "connect to mx.example.org[192.0.2.1]:25: Connection timed out",
        "no-answer-from-host",
    ),
    (
        "postfix",
        "4.4.2",
        "lost connection with mx.example.org[192.0.2.1] while receiving the initial server greeting",
        "bad-connection",
    ),
    (
        "postfix",
        "4.4.3",
        "Host or domain name not found. Name service error for name=example.org type=MX: Host not found, try again",
        "routing-errors",
    ),
    (
        "postfix",
        "5.4.4",
        "Host or domain name not found. Name service error for name=example.invalid type=A: Host not found",
        "bad-domain",
    ),
    ("postfix", "5.4.6", "mail for example.org loops back to myself", "routing-errors"),
    (
        "postfix",
        "4.7.4",
        "TLS is required, but was not offered by host mx.example.org[192.0.2.1]",
        "bad-connection",
    ),
    ("postfix", "5.5.1", "503 5.5.1 Error: need RCPT command", "protocol-errors"),
    ("postfix", "5.5.2", "500 5.5.2 Error: command not recognized", "protocol-errors"),
    ("exim", "5.0.0", "550 Unrouteable address", "bad-domain"),
    (
        "exim",
        "5.0.0",
        "550-Verification failed for <bounce@example.com> 550-Unrouteable address 550 Sender verify failed",
        "invalid-sender",
    ),
    ("exim", "5.0.0", "550 Administrative prohibition", "policy-related"),
    ("exim", "5.0.0", "550 No Such User Here", "bad-mailbox"),
    ("sendmail", "5.1.1", "550 5.1.1 <someone@example.org>... User unknown", "bad-mailbox"),
    ("sendmail", "5.3.0", "553 5.3.0 <someone@example.org>... No such user here", "bad-mailbox"),
    (
        "sendmail",
        "5.2.1",
        "550 5.2.1 <someone@example.org>... Mailbox disabled for this recipient",
        "inactive-mailbox",
    ),
    ("generic", "5.1.1", "550 5.1.1 Mailbox does not exist", "bad-mailbox"),
    ("generic", "5.7.1", "550 5.7.1 Delivery not authorized, message refused", "policy-related"),
    ("generic", "5.7.27", "550 5.7.27 Sender address has null MX", "invalid-sender"),
    ("generic", "5.1.10", "556 5.1.10 Recipient address has null MX", "bad-domain"),
    ("generic", "4.3.1", "452 4.3.1 Insufficient system storage", "quota-issues"),
    ("generic", "5.4.6", "554 5.4.6 Too many hops", "routing-errors"),
    ("generic", "5.7.1", "550 5.7.1 Message rejected as spam by Content Filtering.", "spam-related"),
    (
        "generic",
        "5.7.1",
        "554 5.7.1 The message from (<bounce@example.com>) with the subject of (Hello) matches a profile the Internet community may consider spam.",
        "spam-related",
    ),
    ("generic", "5.7.1", "554 5.7.1 Virus found in message", "virus-related"),
    ("generic", "5.7.1", "550 5.7.1 Message rejected: infected by Eicar-Test-Signature", "virus-related"),
    (
        "generic",
        "5.7.0",
        "552 5.7.0 Our system detected an illegal attachment on your message.",
        "content-related",
    ),
    ("generic", "5.7.1", "554 5.7.1 Message rejected because of unacceptable content.", "content-related"),
    ("generic", "5.7.1", "550 High probability of spam", "spam-related"),
    ("generic", "5.7.1", "554 5.7.1 Mail from 198.51.100.7 refused by SPF policy", "policy-related"),
    ("generic", "5.7.1", "554 5.7.1 Your mail server is an open relay", "relaying-issues"),
    ("amavis", "5.7.0", "554 5.7.0 Reject, id=12345-01 - INFECTED: Eicar-Test-Signature", "virus-related"),
    (
        "amavis",
        "5.7.0",
        "554 5.7.0 Reject, id=12345-01 - BANNED: P=p003,L1=1,M=application/x-msdownload | .exe,T=exe,N=invoice.exe",
        "content-related",
    ),
    ("amavis", "5.7.0", "554 5.7.0 Reject, id=12345-01 - spam", "spam-related"),
]


#: Transient (4xx) replies that name the sender's authentication (SPF, DKIM, DMARC alignment, reverse DNS): a
#: block although temporary. Every other 4xx is a block only when spam-related (reputation, volume, complaints).
TRANSIENT_SENDER_AUTH = frozenset(
    diag
    for _provider, status, diag, category in RESPONSES
    if status.startswith("4")
    and category == "policy-related"
    and any(
        word in diag.lower()
        for word in (
            "spf",
            "dkim",
            "authenticat",
            "aligned",
            "reverse dns",
            "find your hostname",
            "reverse hostname",
        )
    )
)


def expected_type(status: str, diag: str, category: str) -> BounceType:
    """The contact-level type a row must get: a 4xx is never hard, and a block only when it names the sender."""
    if status.startswith("4"):
        names_sender = diag in TRANSIENT_SENDER_AUTH or category == "spam-related"
        return BounceType.BLOCK if names_sender else BounceType.SOFT
    if category in HARD_CATEGORIES:
        return BounceType.HARD
    return BounceType.BLOCK if category in BLOCK_CATEGORIES else BounceType.SOFT
