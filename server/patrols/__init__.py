"""Patrols: location pings as per-cell visits, coverage and presence."""
