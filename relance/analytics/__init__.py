"""Figures over the ledger: aged balance today (KPIs, forecasts and dashboards build here)."""
