"""detainers: immigration-detainer records and jurisdiction-cooperation reporting."""

__version__ = "0.1.0"
