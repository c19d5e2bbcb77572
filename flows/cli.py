"""`pathway reminders ...` and `pathway flows ...` (issue 3).

Mounted by pathway/cli.py. Import Prefect inside the command functions, never at module level,
so every other `pathway` command starts without loading Prefect.
"""

import typer

reminders_app = typer.Typer(help="Reminders and notifications.", no_args_is_help=True)
flows_app = typer.Typer(help="Prefect flows.", no_args_is_help=True)
