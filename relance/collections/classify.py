"""Classifying a customer's reply by transparent rules (pure): the first rule that matches wins, and says why.

Rules are keyword lists per language, looked for in the subject and the first 4,000 characters of the text,
case- and accent-insensitively. The classification is shown with its rule and a collector can correct it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

BOUNCE = "bounce"
OUT_OF_OFFICE = "out_of_office"
ALREADY_PAID = "already_paid"
DISPUTE = "dispute"
PROMISE = "promise"
OTHER = "other"

RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        OUT_OF_OFFICE,
        (
            "out of office",
            "automatic reply",
            "auto-reply",
            "autoreply",
            "i am away",
            "on leave",
            "reponse automatique",
            "absent du bureau",
            "absente du bureau",
            "en conges",
            "absence du bureau",
            "je suis absent",
            "je suis absente",
        ),
    ),
    (
        ALREADY_PAID,
        (
            "already paid",
            "already been paid",
            "payment was made",
            "paid on",
            "we paid",
            "has been paid",
            "remittance advice",
            "deja paye",
            "deja regle",
            "deja ete regle",
            "deja ete payee",
            "virement effectue",
            "avons regle",
            "avons paye",
            "reglement effectue",
            "paiement effectue",
        ),
    ),
    (
        DISPUTE,
        (
            "dispute",
            "disagree",
            "contest",
            "incorrect",
            "wrong amount",
            "not received",
            "never received",
            "damaged",
            "defective",
            "credit note",
            "litige",
            "contestons",
            "conteste",
            "erreur",
            "pas recu",
            "non recu",
            "jamais recu",
            "endommage",
            "defectueux",
            "avoir",
        ),
    ),
    (
        PROMISE,
        (
            "will pay",
            "will be paid",
            "will settle",
            "we shall pay",
            "payment will",
            "pay by",
            "pay on",
            "next week",
            "end of the month",
            "reglerons",
            "payerons",
            "sera regle",
            "sera reglee",
            "sera payee",
            "paiement le",
            "virement le",
            "virement sera",
            "fin du mois",
            "semaine prochaine",
        ),
    ),
)


@dataclass(frozen=True)
class Verdict:
    classification: str
    rule: str


def fold(text: str) -> str:
    """Lower case without accents, whitespace collapsed (so 'Déjà   réglé' matches 'deja regle')."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", text.lower())


def classify(subject: str, body: str, *, auto_submitted: bool = False, report: bool = False) -> Verdict:
    """The class of a reply and the rule that decided it."""
    if report:
        return Verdict(BOUNCE, "delivery status notification (multipart/report)")
    haystack = fold(subject) + " \n " + fold((body or "")[:4000])
    if auto_submitted:
        return Verdict(OUT_OF_OFFICE, "Auto-Submitted header")
    for name, words in RULES:
        for word in words:
            # French agreement: 'regle' also matches 'reglee', 'regles', 'reglees'
            if re.search(r"(?<![a-z])" + re.escape(word) + r"e?s?(?![a-z])", haystack):
                return Verdict(name, f"keyword {word!r}")
    return Verdict(OTHER, "no rule matched")
