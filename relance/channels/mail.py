"""E-mail reminders: composing (HTML and text parts, PDFs attached, threading headers) and sending over SMTP.

Django's e-mail backend does the transport (``EMAIL_HOST``…; without ``EMAIL_HOST`` mails are written under
``var/mail/``). :class:`Mailer` is the seam: the cycle sends through :class:`DjangoMailer` and tests can wrap it.
"""

from __future__ import annotations

import contextlib
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any, Protocol

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import select_template
from django.utils import translation


class Mailer(Protocol):
    def send(self, message: EmailMultiAlternatives) -> None:
        """Hand the message to the transport; raise on failure (``Refused`` when every recipient bounced)."""


class Refused(Exception):
    """The server refused the recipient(s): the address is bad (a hard bounce at sending time)."""

    def __init__(self, addresses: Sequence[str], detail: str) -> None:
        super().__init__(detail)
        self.addresses = list(addresses)


class Unreachable(Exception):
    """The mail server could not be reached: nothing was handed over, the message can be sent later."""


class Uncertain(Exception):
    """The connection broke during the SMTP transaction: the server may have accepted the message or not.

    Never retried automatically (it could go out twice); a person checks.
    """


class DjangoMailer:
    """Sends through Django's configured backend. Over SMTP it also reads which recipients the server refused
    (a refused ``To`` is a bounce even when the copy to the collector went through)."""

    def send(self, message: EmailMultiAlternatives) -> None:
        from django.core.mail.backends.smtp import EmailBackend
        from django.core.mail.message import sanitize_address

        connection = get_connection(fail_silently=False)
        if not isinstance(connection, EmailBackend):
            message.connection = connection
            message.send(fail_silently=False)
            return
        encoding = message.encoding or settings.DEFAULT_CHARSET
        sender = sanitize_address(message.from_email, encoding)
        recipients = [sanitize_address(a, encoding) for a in message.recipients()]
        try:
            try:
                connection.open()
            except (OSError, smtplib.SMTPException) as exc:
                raise Unreachable(str(exc)) from exc
            try:
                refused = connection.connection.sendmail(
                    sender, recipients, message.message().as_bytes(linesep="\r\n")
                )
            except smtplib.SMTPRecipientsRefused as exc:
                raise Refused(list(exc.recipients), str(exc.recipients)) from exc
            except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
                raise Unreachable(str(exc)) from exc  # the server answered no: nothing was accepted
            except (OSError, smtplib.SMTPServerDisconnected) as exc:
                raise Uncertain(str(exc)) from exc  # cut during the transaction: maybe accepted
        finally:
            with contextlib.suppress(Exception):  # closing a broken connection
                connection.close()
        primary = {a.lower() for a in message.to}
        bounced = [a for a in refused if a.lower() in primary]
        if bounced:
            raise Refused(bounced, str({a: refused[a] for a in bounced}))


def domain_of(address: str) -> str:
    return (parseaddr(address)[1].rpartition("@")[2] or "relance.invalid").lower()


def tagged(mailbox: str, tag: str) -> str:
    """``collections@acme.fr`` with tag R123 → ``collections+R123@acme.fr`` (sub-addressing)."""
    name, addr = parseaddr(mailbox)
    local, _, dom = addr.partition("@")
    if not dom:
        return mailbox
    address = f"{local}+{tag}@{dom}"
    return f"{name} <{address}>" if name else address


@dataclass
class Outgoing:
    to: list[str]
    subject: str
    template: str
    context: dict[str, Any]
    language: str
    reference: str
    reply_to: str = ""
    cc: list[str] = field(default_factory=list)
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)
    from_email: str = ""


def message_id_for(reference: str, from_email: str) -> str:
    """A stable Message-ID per reminder: replies thread to it, and a resend would be recognisable."""
    return f"<{reference.lower()}@{domain_of(from_email)}>"


def compose(out: Outgoing) -> EmailMultiAlternatives:
    from_email = out.from_email or settings.DEFAULT_FROM_EMAIL
    names = [f"channels/email/{out.template}", "channels/email/reminder"]
    with translation.override(out.language):
        context = {**out.context, "language": out.language, "reference": out.reference}
        text = select_template([f"{n}.txt" for n in names]).render(context)
        html = select_template([f"{n}.html" for n in names]).render(context)
    headers = {"Message-ID": message_id_for(out.reference, from_email), "X-Relance-Reference": out.reference}
    message = EmailMultiAlternatives(
        subject=out.subject,
        body=text,
        from_email=from_email,
        to=out.to,
        cc=out.cc,
        reply_to=[out.reply_to] if out.reply_to else None,
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    for name, data, mimetype in out.attachments:
        message.attach(name, data, mimetype)
    return message
