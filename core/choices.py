"""Vocabularies shared by several apps (agreement scope, assessments, findings, tickets)."""

from django.db import models


class RiskDomain(models.TextChoices):
    CYBER = "cyber", "Cyber"
    BIOLOGICAL = "biological", "Biological"
    CHEMICAL = "chemical", "Chemical"
    RADIOLOGICAL_NUCLEAR = "radiological_nuclear", "Radiological / nuclear"
    AUTONOMY = "autonomy", "Autonomy"
    OTHER = "other", "Other"


class AccessKind(models.TextChoices):
    """Kinds of model access a company offers (agreement) and an evaluator requests (ticket)."""

    HOSTED_API = "hosted_api", "Hosted API"
    WEIGHTS_DOWNLOAD = "weights_download", "Weights download"
    FINE_TUNING = "fine_tuning", "Fine-tuning"
    SAFEGUARDS_OFF = "safeguards_off", "Safeguards-off variant"
    DOCUMENTATION = "documentation", "Documentation"


# The executive order caps any assessment window at 30 days; agreements may set less.
MAX_WINDOW_DAYS = 30
