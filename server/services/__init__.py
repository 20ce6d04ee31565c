"""Services own persistence: each turns domain values into rows and back, inside one transaction."""
