"""The Slack surface (slack-bolt): events, slash commands, buttons and modals over the Guild facade."""
