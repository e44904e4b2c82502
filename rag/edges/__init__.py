"""The edges above the engine: the command line, the HTTP API and the server that assembles API and page."""
