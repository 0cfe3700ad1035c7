"""Harvesting records from other archives: OAI-PMH providers and JSON record APIs.

The files a harvest writes are sources like any other: `lod build DIR` reads them (lod.sources.oai
for OAI-PMH records, lod.sources.dajson for the JSON API's). Every request goes through one
PoliteSession (User-Agent, spacing, timeouts, retries). `reconcile` uses the same session to
ask a reconciliation service for links to review.
"""

from lod.harvest import jsonapi, oai, reconcile
from lod.harvest.http import USER_AGENT, Politeness, PoliteSession

__all__ = ["USER_AGENT", "PoliteSession", "Politeness", "jsonapi", "oai", "reconcile"]
