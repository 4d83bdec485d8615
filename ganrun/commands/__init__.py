"""The commands of the `ganrun` CLI, one module each; ganrun/cli.py's table names them. Every module
has `main(args)` and raises ConfigError/UsageError (errors.py) for a user's mistake."""
