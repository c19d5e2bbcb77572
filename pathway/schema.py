"""Every table of the tracker on one metadata: import this (not the model modules one by one)
wherever the whole schema is needed (migrations, create_all in tests, backups)."""

import pathway.accounts.models
import pathway.audit
import pathway.reminders.models
from pathway.models import metadata

# The model modules register their tables (and pathway.audit its triggers) on `metadata` when imported.
MODEL_MODULES = (pathway.accounts.models, pathway.audit, pathway.reminders.models)

__all__ = ["MODEL_MODULES", "metadata"]
