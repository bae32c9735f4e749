"""The cross-team syncs service: proposals from the guild, invitations (iCalendar), CalDAV."""
