"""Tasks: each field user's own work (verifications, dispatched incidents, whistle calls) and their answers."""
