"""Named accounts for the dashboard (issue 4): argon2 password hashes, lockout, roles."""
