"""Scripted fakes of the upstream services ccroute talks to (used by integration and e2e tests)."""
