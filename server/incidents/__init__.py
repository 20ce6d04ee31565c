"""Incidents: reports in (HTTP and Open311), the closed loop's actions, listings, and offline batch routing."""
