"""Subcommands of `gandrange-desk`, one module per area (see cli.COMMAND_MODULES)."""
