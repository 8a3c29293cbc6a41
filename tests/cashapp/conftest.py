"""The staff-page fixtures (a client signed in as any user of the world) for the cash application pages."""

from tests.web.conftest import client_for  # noqa: F401 - a fixture, used by name

__all__ = ["client_for"]
