"""Reminders and notifications (issue 3): which standing flags to tell whom, exactly once."""
