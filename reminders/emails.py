"""Rendering and sending reminder emails from templates/emails/<name>-{subject.txt,body.txt,body.html}."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils.crypto import salted_hmac


def delivery_message_id(kind: str, row_id: int) -> str:
    """A Message-ID fixed for one delivery row, so a message sent twice (a worker killed after the
    mail server accepted it, before the row was marked sent) is the same message to mail systems
    and clients, which drop duplicates of a Message-ID. Keyed, so it does not reveal row numbers."""
    token = salted_hmac("reviewportal.reminders.message-id", f"{kind}:{row_id}").hexdigest()[:32]
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >") or "reviewportal.invalid"
    return f"<{kind}.{token}@{domain}>"


def send_templated_email(
    *, name: str, to: str, context: dict[str, Any], connection: Any = None, message_id: str | None = None
) -> None:
    """Render the three templates of ``name`` and send one message. Raises on transport errors."""
    context = {"site_url": settings.SITE_URL.rstrip("/"), **context}
    subject = " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())
    text = render_to_string(f"emails/{name}-body.txt", context)
    html = render_to_string(f"emails/{name}-body.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        connection=connection,
        headers={"Message-ID": message_id} if message_id else None,
    )
    message.attach_alternative(html, "text/html")
    message.send(fail_silently=False)
