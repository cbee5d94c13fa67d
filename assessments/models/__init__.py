"""Models of the assessments app, split by sub-domain.

* submissions — models a company offers for assessment
* cases — the assessment itself (team, window, status, outcome)
* tickets — model-access tickets and credential reveals
"""

from assessments.models.cases import Assessment, AssessmentOutcome, AssessmentStatus
from assessments.models.submissions import Modality, ModelSubmission

__all__ = ["Assessment", "AssessmentOutcome", "AssessmentStatus", "Modality", "ModelSubmission"]
