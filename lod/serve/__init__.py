"""The serve stage: an HTTP front for a built output folder."""
