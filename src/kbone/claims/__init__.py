"""kbone.claims: check what a health article or scientific text says against the evidence base.

``check_text(text)`` / ``check_bytes(raw)`` return a :class:`~kbone.claims.models.Report` whose ``claims``
carry their exact span in the input, a verdict (supported, partly_supported, unsupported, contradicted,
not_checkable), a bilingual reason and the record ids behind it. ``normalize`` and ``extract`` are the
first two stages on their own.
"""

from kbone.claims.check import check_bytes, check_text
from kbone.claims.extract import extract
from kbone.claims.normalize import normalize

__all__ = ["check_bytes", "check_text", "extract", "normalize"]
