"""Tables of the reminder sweep (issue 3)."""
