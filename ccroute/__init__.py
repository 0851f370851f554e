"""ccroute: run Claude Code on any model through a local Anthropic-API proxy."""

__version__ = "0.1.0"
