"""The customer's pages. They translate requests into selectors and services; no rules here."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from . import services


def _neutral(request: HttpRequest) -> HttpResponse:
    """The same page, with no data, for a wrong, expired or revoked link."""
    return render(request, "portal/invalid.html", status=404)


def home(request: HttpRequest, token: str) -> HttpResponse:
    link = services.link_resolve(token)
    if link is None:
        return _neutral(request)
    return render(request, "portal/home.html", {"link": link, "customer": link.customer, "token": token})
