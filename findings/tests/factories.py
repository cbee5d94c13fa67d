import factory
from django.utils import timezone

from core.references import save_with_reference
from findings.models import Finding, FindingComment, FindingStatus, Severity


class FindingFactory(factory.django.DjangoModelFactory):
    """A draft finding; pass ``assessment`` and ``author``. ``released(...)`` gives a released one."""

    class Meta:
        model = Finding

    assessment = None
    author = None
    title = factory.Sequence(lambda n: f"Safeguard bypass {n}")
    risk_domain = "cyber"
    severity = Severity.HIGH
    summary = "The model writes working exploit code for a known CVE when asked in a role-play framing."
    details = "Observed in **3 of 5** attempts."
    reproduction_steps = "1. Open a session.\n2. Ask in the role-play framing."
    recommended_action = "Extend refusal training to role-play framings."
    status = FindingStatus.DRAFT

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return save_with_reference(model_class(*args, **kwargs), "FND")


def released_finding(*, assessment, author, released_by, **kwargs):
    now = timezone.now()
    return FindingFactory(
        assessment=assessment,
        author=author,
        status=kwargs.pop("status", FindingStatus.RELEASED),
        released_by=released_by,
        released_at=now,
        response_due_at=kwargs.pop("response_due_at", now + timezone.timedelta(days=10)),
        **kwargs,
    )


class CommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FindingComment

    body = "A comment."
    internal = True


def report_job_done(assessment, kind, *, requested_by, content: bytes = b"%PDF-1.4 a report\n"):
    """A report job that a worker finished, with its stored file."""
    import hashlib

    from django.core.files.base import ContentFile

    from findings.models import ReportFile, ReportJob, ReportJobStatus

    job = ReportJob.objects.create(
        assessment=assessment,
        kind=kind,
        requested_by=requested_by,
        status=ReportJobStatus.DONE,
        progress_done=1,
        progress_total=1,
        source_digest="0" * 64,
        finished_at=timezone.now(),
    )
    stored = ReportFile(
        job=job,
        original_name=f"{assessment.reference}-report.pdf",
        content_type="application/pdf",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by=requested_by,
    )
    stored.file.save(stored.original_name, ContentFile(content), save=False)
    stored.save()
    return job


def recommendation_in(finding, status="proposed", *, created_by=None, **kwargs):
    """A recommendation on ``finding`` already in ``status`` (its stage due in a week when it has one)."""
    from findings.models import Recommendation
    from findings.states import RECOMMENDATION_STAGE

    if status in RECOMMENDATION_STAGE:
        kwargs.setdefault("due_at", timezone.now() + timezone.timedelta(days=7))
    row = Recommendation(
        finding=finding,
        kind=kwargs.pop("kind", "safeguard"),
        text=kwargs.pop("text", "Add a refusal safeguard for the role-play framing."),
        status=status,
        created_by=created_by or finding.author,
        **kwargs,
    )
    return save_with_reference(row, "REC")
