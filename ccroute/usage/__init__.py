"""What each `POST /v1/messages` cost and how it went: the per-request record, its price, and
the on-disk usage store behind `ccroute usage` and `ccroute logs`.

Modules: `record` (`RequestRecord`, plain data). Must not import aiohttp, typer, rich or keyring.
"""
