"""Every table of the tracker on one metadata: import this (not the model modules one by one)
wherever the whole schema is needed (migrations, create_all in tests, backups)."""

import pathway.accounts.models
import pathway.reminders.models
from pathway.models import metadata

__all__ = ["metadata"]
