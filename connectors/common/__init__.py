"""What every connector shares: the HTTP client, text conversion, identifiers, secret masking,
git history as documents, project files (README, CODEOWNERS, catalog-info) and housekeeping files."""
