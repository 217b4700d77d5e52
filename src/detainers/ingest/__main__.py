"""Print docs/sources/README.md: `python -m detainers.ingest > docs/sources/README.md`."""

import sys

from detainers.ingest import catalogue_markdown

sys.stdout.write(catalogue_markdown())
