"""Qt widgets and table models. They call services; they hold no business rules."""
