"""Business rules and transactions. No Qt here: the window and the command line share these."""
