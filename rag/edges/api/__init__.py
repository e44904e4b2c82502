"""The HTTP API over one `Engine`."""
