"""lod: publish archival records as linked open data.

Records flow one way: sources -> model -> mapping -> store/formats -> publish/serve.
"""

from lod.errors import LodError, MappingError, SourceError
from lod.model import Origin, Record

__all__ = ["LodError", "MappingError", "Origin", "Record", "SourceError"]
__version__ = "0.1.0"
