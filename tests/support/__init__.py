"""Every fake and fixture the tests share: real servers on loopback (MediaWiki, Postgres, Radicale,
a git http-backend), fakes of the services that cannot run here (Slack's Web API, Confluence Cloud,
GitHub and GitLab APIs), scripted organisations and browsers."""
