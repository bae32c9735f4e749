"""People: identities resolved into persons, the directory, and what a viewer may see."""
