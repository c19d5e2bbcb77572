"""Every table of the tracker on one metadata: import this (not the model modules one by one)
wherever the whole schema is needed (migrations, create_all in tests, backups)."""

import pathway.store.account_models
import pathway.store.audit
import pathway.store.reminder_models
from pathway.store.models import metadata

# The model modules register their tables (and pathway.store.audit its triggers) on `metadata` when imported.
MODEL_MODULES = (pathway.store.account_models, pathway.store.audit, pathway.store.reminder_models)

__all__ = ["MODEL_MODULES", "metadata"]
