"""A small gettext-like catalogue for the wallet's own words (claim labels come from the issuer).

Message ids are the English text; :data:`CATALOGUE` maps each language to translations. A missing
translation falls back to English, and a test checks that every id used in ``wallet/`` has a French
entry. The language is chosen by setting (``--lang``, ``TESSERA_LANG``) or by the locale
(``LC_ALL``, ``LC_MESSAGES``, ``LANG``).
"""

from __future__ import annotations

import os
from typing import Any, Final

LANGUAGES: Final = ("en", "fr")

FR: Final[dict[str, str]] = {
    # CLI
    "Wallet created at {path}": "Portefeuille créé dans {path}",
    "{id}\tdamaged: {message}": "{id}\tendommagé : {message}",
    "The wallet is empty.": "Le portefeuille est vide.",
    "Format": "Format",
    "Valid until": "Valide jusqu’au",
    "Status": "Statut",
    "never checked": "jamais vérifié",
    "Transaction code: ": "Code de transaction : ",
    "Received {title} from {issuer} ({id})": "Reçu {title} de {issuer} ({id})",
    "trusted": "de confiance",
    "NOT in your trust list": "ABSENT de votre liste de confiance",
    "Who asks: {name} {id} — {trust}": "Qui demande : {name} {id} — {trust}",
    "Why: {purpose}": "Pourquoi : {purpose}",
    "(no purpose given)": "(aucun motif donné)",
    "Credential: {title} ({id})": "Attestation : {title} ({id})",
    "required": "obligatoire",
    "optional": "facultatif",
    "send": "envoyer",
    "withhold": "retenir",
    "Withheld: {claims}": "Retenu : {claims}",
    "Declined; the verifier was told.": "Refusé ; le vérificateur en a été informé.",
    "Send these claims? [y/N] ": "Envoyer ces informations ? [o/N] ",
    "Sent.": "Envoyé.",
    "Backed up {n} records and {h} history entries": "{n} enregistrements et {h} entrées d’historique sauvegardés",
    "Left out (damaged): {ids}": "Omis (endommagés) : {ids}",
    "Restored {n} records ({s} already present), {h} history entries": (
        "{n} enregistrements restaurés ({s} déjà présents), {h} entrées d’historique"
    ),
    # app
    "Tessera wallet": "Portefeuille Tessera",
    "Passphrase": "Phrase de passe",
    "Unlock": "Déverrouiller",
    "Unlocking…": "Déverrouillage…",
    "Create a wallet": "Créer un portefeuille",
    "Credentials": "Attestations",
    "Receive": "Recevoir",
    "Present": "Présenter",
    "History": "Historique",
    "Lock": "Verrouiller",
    "Quit": "Quitter",
    "Back": "Retour",
    "Open": "Ouvrir",
    "Issuer": "Émetteur",
    "Valid from": "Valide depuis",
    "Status checked": "Statut vérifié",
    "not checked": "non vérifié",
    "valid": "valide",
    "revoked": "révoquée",
    "suspended": "suspendue",
    "unknown": "inconnu",
    "No credentials yet. Press r to receive one.": "Aucune attestation. Appuyez sur r pour en recevoir une.",
    "Damaged records: {n}": "Enregistrements endommagés : {n}",
    "Offer link": "Lien d’offre",
    "Paste an openid-credential-offer:// link": "Collez un lien openid-credential-offer://",
    "Transaction code (if the issuer gave you one)": "Code de transaction (si l’émetteur vous en a donné un)",
    "Fetch offer": "Charger l’offre",
    "Accept": "Accepter",
    "Working…": "En cours…",
    "{issuer} offers: {what}": "{issuer} propose : {what}",
    "This offer needs a transaction code.": "Cette offre demande un code de transaction.",
    "Received {n} credential(s).": "{n} attestation(s) reçue(s).",
    "Request link": "Lien de demande",
    "Paste an openid4vp:// link": "Collez un lien openid4vp://",
    "Open request": "Ouvrir la demande",
    "Who asks": "Qui demande",
    "Why": "Pourquoi",
    "In your trust list": "Dans votre liste de confiance",
    "NOT in your trust list — be careful": "ABSENT de votre liste de confiance — prudence",
    "Requested claims": "Informations demandées",
    "Will be withheld": "Sera retenu",
    "Nothing will be withheld.": "Rien ne sera retenu.",
    "Also shared (always part of this credential)": "Partagé aussi (toujours inclus dans cette attestation)",
    "Several credentials match; press c to use another ({i} of {n}).": (
        "Plusieurs attestations correspondent ; appuyez sur c pour en changer ({i} sur {n})."
    ),
    "Send": "Envoyer",
    "Decline": "Refuser",
    "Toggle claim": "Cocher/décocher",
    "Other credential": "Autre attestation",
    "[x] send": "[x] envoyer",
    "[ ] withhold": "[ ] retenir",
    "(required)": "(obligatoire)",
    "(optional)": "(facultatif)",
    "The wallet holds nothing that answers: {ids}": "Le portefeuille ne contient rien qui réponde à : {ids}",
    "Sent to {who}.": "Envoyé à {who}.",
    "Declined. {who} was told.": "Refusé. {who} en a été informé.",
    "Export JSON": "Exporter en JSON",
    "History exported to {path}": "Historique exporté dans {path}",
    "received": "reçu",
    "presented": "présenté",
    "declined": "refusé",
    "failed": "échec",
    "When": "Quand",
    "Event": "Événement",
    "Who": "Qui",
    "Claims": "Informations",
    "Result": "Résultat",
    "Purpose": "Motif",
    "Claim": "Information",
    "Value": "Valeur",
    "Show QR": "Afficher le QR",
    # QR, trust list, passphrase, batch
    "QR summary": "Résumé en QR",
    "Invert": "Inverser",
    "Credential offer": "Offre d’attestation",
    "Presentation request": "Demande de présentation",
    "Link": "Lien",
    "Summary of {title} (not a proof: it carries no signature)": (
        "Résumé de {title} (ce n’est pas une preuve : il ne porte aucune signature)"
    ),
    "The code is taller than the screen: enlarge the terminal or scroll.": (
        "Le code dépasse la hauteur de l’écran : agrandissez le terminal ou faites défiler."
    ),
    "Escape: back · i: invert colours": "Échap : retour · i : inverser les couleurs",
    "Trusted: {id}": "De confiance : {id}",
    "Removed from the trust list: {id}": "Retiré de la liste de confiance : {id}",
    "The trust list is empty.": "La liste de confiance est vide.",
    "Passphrase changed.": "Phrase de passe changée.",
    "Change passphrase": "Changer la phrase de passe",
    "Current passphrase": "Phrase de passe actuelle",
    "New passphrase": "Nouvelle phrase de passe",
    "New passphrase again": "Nouvelle phrase de passe, à nouveau",
    "The two new passphrases differ.": "Les deux nouvelles phrases de passe diffèrent.",
    "The issuer gives at most {n} copies at once.": "L’émetteur donne au plus {n} copies à la fois.",
    "Language": "Langue",
}

CATALOGUE: Final[dict[str, dict[str, str]]] = {"fr": FR}


def detect_language(environ: dict[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    for name in ("TESSERA_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value and value not in ("C", "POSIX"):
            lang = value.split(".")[0].split("_")[0].split("-")[0].lower()
            return lang if lang in LANGUAGES else "en"
    return "en"


class Translator:
    def __init__(self, lang: str = "en") -> None:
        self.lang = lang.split("-", maxsplit=1)[0].lower()
        self._table = CATALOGUE.get(self.lang, {})

    def __call__(self, msgid: str, **values: Any) -> str:
        text = self._table.get(msgid, msgid)
        return text.format(**values) if values else text
