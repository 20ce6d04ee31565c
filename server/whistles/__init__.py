"""Whistle and report-in (吹哨报到): calls to units, their report-ins and ratings."""
