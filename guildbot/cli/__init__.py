"""The command line (`guildbot ...`): argument parsing and printing over the Guild facade and the
services. `serve` and `slack` (serve.py, slack.py) are where the web app, the Slack app and the
scheduler are put together: the command line is the composition root."""
