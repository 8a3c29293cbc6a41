"""Staff pages: one module per domain. Views translate requests to selector calls; no rules here."""
