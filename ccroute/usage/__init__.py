"""What each `POST /v1/messages` cost and how it went: the per-request record, its price, and
the on-disk usage store behind `ccroute usage` and `ccroute logs`.

A package of single-purpose modules; this file only describes them (import from the module):

- `record`: `RequestRecord`, the facts of one finished request (plain data).
- `cost`: `cost_usd`, pure: tokens times catalogue prices (USD per million tokens) → USD or None.
- `prices`: `PriceBook`, the catalogue cache's prices held in memory for the daemon.
- `schema`: the SQLite tables and their migrations (`PRAGMA user_version`).
- `store`: `UsageStore`, writing `usage.sqlite3` in the data dir, rotation, corruption recovery.
- `writer`: `UsageWriter`, the thread that batches records from a queue into the store.
- `query`: reading both generations for `ccroute usage` / `ccroute logs`.

Must not import (here or in any submodule): aiohttp, typer, rich, keyring.
"""
