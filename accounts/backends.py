"""The password backend, reading a signed-in person with their membership and organisation at once.

Every page needs all three: the policy's ``Actor`` reads the membership, and the user bar names the
organisation. Django's ``ModelBackend.get_user`` reads the user alone, so each page paid two more
queries to follow the relations; here one query joins them (the membership is one-to-one, and a
person without one simply gets no membership row).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class PortalModelBackend(ModelBackend):
    def get_user(self, user_id):
        model = get_user_model()
        try:
            user = model._default_manager.select_related("membership__organisation").get(pk=user_id)
        except model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
