"""One router per domain, mounted on the API in relance.api.urls."""
