"""The publish stage: static linked-data site, dumps and dataset descriptions."""
