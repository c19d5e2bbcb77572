"""Tables of the accounts (issue 4)."""
