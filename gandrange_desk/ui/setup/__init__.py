"""First run, school holidays, backups: the windows that set the desk up."""
