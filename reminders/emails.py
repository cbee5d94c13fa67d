"""Rendering and sending reminder emails from templates/emails/<name>-{subject.txt,body.txt,body.html}."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def send_templated_email(*, name: str, to: str, context: dict[str, Any], connection: Any = None) -> None:
    """Render the three templates of ``name`` and send one message. Raises on transport errors."""
    context = {"site_url": settings.SITE_URL.rstrip("/"), **context}
    subject = " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())
    text = render_to_string(f"emails/{name}-body.txt", context)
    html = render_to_string(f"emails/{name}-body.html", context)
    message = EmailMultiAlternatives(
        subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[to], connection=connection
    )
    message.attach_alternative(html, "text/html")
    message.send(fail_silently=False)
