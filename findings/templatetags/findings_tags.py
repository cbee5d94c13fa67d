"""Template helpers of the findings app: Markdown rendering, the severity and status tags, and the
assessment page's findings panel."""

from __future__ import annotations

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from accounts.models import Role
from accounts.permissions import can
from findings.markdown import render_markdown
from findings.selectors import assessment_finding_summary, assessment_recommendations, case_findings_url

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str):
    """Markdown → sanitised HTML (see findings.markdown)."""
    return render_markdown(text or "")


# A finding's severity and status as tags. Lists print them on every row: a tag written here costs a
# fraction of an included template's render.
@register.simple_tag
def severity_tag(finding) -> str:
    return format_html(
        '<span class="usa-tag portal-sev portal-sev--{}">{}</span>', finding.severity, finding.get_severity_display()
    )


@register.simple_tag
def finding_status_tag(finding) -> str:
    return format_html(
        '<span class="usa-tag portal-finding-status portal-finding-status--{}">{}</span>',
        finding.status,
        finding.get_status_display(),
    )


@register.simple_tag
def assessment_url(assessment) -> str:
    """The assessment's page, or "" while the assessments app has no detail page."""
    try:
        return reverse("assessments:detail", kwargs={"reference": assessment.reference})
    except NoReverseMatch:
        return ""


@register.inclusion_tag("findings/_panel.html", takes_context=True)
def findings_panel(context, assessment):
    """The findings panel of an assessment page: counts by severity and domain, the list, and a button.

    Usage on the assessment page: ``{% load findings_tags %}{% findings_panel assessment %}``.
    The data comes from the findings selectors, through the user's scope.
    """
    user = context["request"].user
    return {
        "assessment": assessment,
        "case_findings_url": case_findings_url(assessment),
        "summary": assessment_finding_summary(user=user, assessment=assessment),
        "recommendations": assessment_recommendations(user=user, assessment=assessment),
        "can_report": can(user, "assessment.report", assessment),
        "can_report_company": can(user, "assessment.report_company", assessment),
        # A company's liaison sees only what the centre released to it.
        "sees_released_only": user.role == Role.LIAISON,
    }
