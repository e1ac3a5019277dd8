"""A month's figures for pages, the API, the CLI and report packs."""
