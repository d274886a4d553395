"""An example hookwire plugin package (see docs/plugins.md)."""

__version__ = "0.1.0"
