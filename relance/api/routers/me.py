"""The caller: ``GET /me``."""

from typing import Any

from django.http import HttpRequest
from ninja import Router

from relance.api import problems
from relance.api.auth import actor
from relance.api.schemas import MeOut
from relance.core import scope
from relance.orgs.models import Agency, Company

router = Router(tags=["me"])


@router.get(
    "/me",
    response={200: MeOut, **problems.responses()},
    summary="Who am I",
    description="The user the credentials act as, with the reach of their scope.",
)
def get_me(request: HttpRequest) -> dict[str, Any]:
    user = actor(request)
    return {
        "id": user.pk,
        "email": user.email,
        "name": user.get_full_name() or user.email,
        "role": user.role,
        "language": user.language,
        "scope_level": scope.scope_of(user).level,
        "companies": sorted(set(scope.restrict(user, Company.objects.all()).values_list("code", flat=True))),
        "agencies": sorted(set(scope.restrict(user, Agency.objects.all()).values_list("code", flat=True))),
        "permissions": [action for action in scope.ACTIONS if scope.can(user, action)],
    }
