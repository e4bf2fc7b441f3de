"""One module per ``meflow`` subcommand: thin argument parsing around ``meflow`` functions."""
