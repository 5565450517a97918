"""What the engine writes into a result's ``notes`` (English, as ``result.json`` keeps it), and
the same read back in the reader's language for the reports (``explain``).

Each form is written from one template here (``note``) and read back with the pattern made
from that template, so the two cannot drift apart.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["FORMS", "explain", "form_of", "note"]

FORMS: Final[dict[str, str]] = {  # catalogue key (grader.report.i18n) -> the English written
    "note_np_alias": ("{what} was used (the handout's own demo cell uses np.int): NumPy 1.24 removed it; the "
                      "grader's kernel accepts it as the course's environment did (on a current NumPy write {plain})"),
    "note_read_csv_eader": ("pd.read_csv(..., eader=None) (the handout's typo of header=) was read as header=None, "
                            "as the handout meant"),
    "note_handout_cell": "cell {index} failed because of the handout's own code, not yours: {title}",
}


def note(key: str, **values: object) -> str:
    """The English note of form ``key`` (one of ``FORMS``), filled in."""
    return FORMS[key].format(**values)


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)  # text, name, text, name, ..., text
    return re.compile("".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts)), re.S)


_READ: Final = [(_pattern(template), key) for key, template in FORMS.items()]


def form_of(text: str) -> str | None:
    """The key of the form ``text`` was written from, None for any other text."""
    return next((key for pattern, key in _READ if pattern.fullmatch(text)), None)


def explain(text: str, lang: str) -> str:
    """A note in ``lang``: a form of ``FORMS`` in the catalogue's words, any other as it is."""
    from grader.report.i18n import read_back

    return read_back(text, _READ, lang)
