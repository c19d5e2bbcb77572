"""`pathway users ...` and `pathway dashboard` (issue 4). Mounted by pathway/cli.py."""

import typer

users_app = typer.Typer(help="Named dashboard accounts.", no_args_is_help=True)
