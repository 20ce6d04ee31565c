"""Media: photos and files uploaded from the field, stored by content hash."""
