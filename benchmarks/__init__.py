"""ccroute's benchmark harness (not part of the installed package).

Run it with `python -m benchmarks` (or `python benchmarks/run.py`); `--smoke` is the quick CI
check, `--profile` writes profiles to benchmarks/results/. Modules: `run` (the command and the
scenario), `stack` (the fake upstream and an isolated daemon, cleaned up on any exit),
`pinning` (CPU affinity), `measure` (process CPU time and RSS), `load` (the loopback HTTP
client), `startup` (CLI wall times), `report` (targets, table, JSON, smoke verdict),
`profiling` (py-spy / pyinstrument and `-X importtime`), `fake_upstream` (the OpenAI-compatible
upstream). `count_tokens_error` and `route_decision` are stand-alone micro-benchmarks.

Must not be imported by ccroute itself.
"""
