"""Template context shared by every staff page."""

from typing import Any

from django.http import HttpRequest

from relance.core import scope


def permissions(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {"can_import": scope.can(user, "import")}
