"""The demo county's working life: a year of history built once at set-up, and simulated units."""
