"""Reference data: the county's places, units, people and lists; boundary imports and exports."""
