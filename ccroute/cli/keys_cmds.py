"""Placeholder: replaced by the module's owner."""

import typer

app = typer.Typer()
