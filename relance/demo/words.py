"""Word lists and deterministic name builders for demo customers and contacts (pure)."""

from __future__ import annotations

import random
import re
import unicodedata

# (trade in French, trade in English, NAF code); UK SIC codes are derived from the NAF ones.
TRADES: tuple[tuple[str, str, str], ...] = (
    ("Transports", "Haulage", "49.41A"),
    ("Boulangerie", "Bakery", "10.71C"),
    ("Menuiserie", "Joinery", "43.32A"),
    ("Imprimerie", "Printing", "18.12Z"),
    ("Garage", "Motors", "45.20A"),
    ("Restaurant", "Catering", "56.10A"),
    ("Pharmacie", "Pharmacy", "47.73Z"),
    ("Bâtiment", "Building", "41.20A"),
    ("Informatique", "Software", "62.01Z"),
    ("Conseil", "Consulting", "70.22Z"),
    ("Nettoyage", "Cleaning", "81.21Z"),
    ("Hôtellerie", "Hotels", "55.10Z"),
    ("Électricité", "Electrical", "43.21A"),
    ("Plomberie", "Plumbing", "43.22A"),
    ("Distribution", "Wholesale", "46.90Z"),
    ("Agroalimentaire", "Foods", "10.89Z"),
    ("Métallerie", "Metalworks", "25.62B"),
    ("Logistique", "Logistics", "52.10B"),
    ("Laboratoires", "Laboratories", "72.19Z"),
    ("Emballages", "Packaging", "22.22Z"),
    ("Paysages", "Landscaping", "81.30Z"),
    ("Optique", "Optics", "47.78A"),
    ("Mécanique", "Engineering", "28.29B"),
    ("Textiles", "Textiles", "13.92Z"),
)

# Compound surnames are written with "_" and read with a space.
FR_SURNAMES = tuple(
    w.replace("_", " ")
    for w in (
        "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefebvre Michel Garcia "
        "David Bertrand Roux Vincent Fournier Morel Girard André Lefèvre Mercier Dupont Lambert Bonnet François "
        "Martinez Legrand Garnier Faure Rousseau Blanc Guérin Muller Henry Roussel Nicolas Perrin Morin Mathieu "
        "Clément Gauthier Dumont Lopez Fontaine Chevalier Robin Masson Sanchez Gérard Nguyen Boyer Denis Lemaire "
        "Duval Joly Gautier Roger Roche Roy Noël Meyer Lucas Meunier Jean Perez Marchand Dufour Blanchard Marie "
        "Barbier Brun Dumas Brunet Schmitt Leroux Colin Fernandez Pierre Renard Arnaud Rolland Caron Aubert Giraud "
        "Leclerc Vidal Bourgeois Renaud Lemoine Picard Gaillard Philippe Leclercq Lacroix Fabre Dupuis Olivier "
        "Rodriguez Da_Silva Hubert Louis Charles Guillot Rivière Le_Gall Guillaume Adam Rey Moulin Gonzalez Berger "
        "Lecomte Menard Fleury Deschamps Carpentier Julien Benoît Paris Maillard Marchal Aubry Vasseur Le_Roux"
    ).split()
)

FR_FIRST = (
    "Camille Léa Manon Chloé Emma Inès Sarah Julie Claire Anne Sophie Marie Isabelle Nathalie Céline Aurélie "
    "Lucas Hugo Louis Nathan Thomas Nicolas Julien Pierre Antoine Maxime Alexandre Olivier Philippe Laurent "
    "Stéphane Christophe Sébastien Mathieu Vincent Émilie Valérie Sandrine Hélène Élodie"
).split()

FR_PLACES = (
    "du Rhône",
    "de Provence",
    "Atlantique",
    "des Alpes",
    "de Bretagne",
    "du Nord",
    "de l'Ouest",
    "Normandie",
    "du Centre",
    "d'Aquitaine",
    "de la Loire",
    "Méditerranée",
    "du Sud-Ouest",
    "de Bourgogne",
    "d'Alsace",
    "des Vosges",
)
FR_FORMS = ("SAS", "SAS", "SARL", "SARL", "SA", "EURL", "SASU", "SNC")
FR_PATTERNS = (
    "{trade} {surname}",
    "{trade} {surname} {place}",
    "{surname} {trade}",
    "Établissements {surname}",
    "{surname} & Fils",
    "{trade} {place}",
    "Groupe {surname}",
    "{surname}-{surname2}",
    "Ateliers {surname}",
    "Société {trade} {place}",
)

UK_SURNAMES = (
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans Walker White Roberts "
    "Green Hall Wood Jackson Clarke Patel Khan Lewis James Phillips Mason Mitchell Rose Davis Rodriguez Cox "
    "Alexander Morden Hughes Edwards Hill Moore Clark Harrison Scott Young Morris Ward Turner Carter Cooper "
    "Morgan King Baker Harris Allen Bell Shaw Murray Fletcher Holmes Palmer Ellis Grant Hunt Webb Gray"
).split()
UK_FIRST = (
    "Oliver Jack Harry George Charlie Thomas James William Amelia Olivia Emily Isla Ava Jessica Sophie Grace "
    "Daniel Matthew Rachel Hannah Laura Rebecca Andrew Richard Helen Sarah Peter Claire"
).split()
UK_PLACES = (
    "Thames",
    "Pennine",
    "Midland",
    "Northern",
    "Solent",
    "Mersey",
    "Severn",
    "Cotswold",
    "Highland",
    "Tyne",
    "Humber",
    "Wessex",
    "Yorkshire",
    "Clyde",
)
UK_FORMS = ("Ltd", "Ltd", "Ltd", "Limited", "Plc", "LLP")
UK_PATTERNS = (
    "{surname} {trade}",
    "{place} {trade}",
    "{surname} & Sons",
    "{surname} {surname2}",
    "{place} {trade} Group",
    "{surname} Brothers",
    "{surname} & {surname2} {trade}",
)

IE_PLACES = ("Liffey", "Shannon", "Connacht", "Munster", "Leinster", "Galway", "Wicklow", "Kerry")

FR_CITIES = ("Paris", "Lyon", "Lille", "Nantes", "Bordeaux", "Marseille", "Toulouse", "Rennes", "Strasbourg")
UK_CITIES = ("London", "Manchester", "Leeds", "Bristol", "Birmingham", "Glasgow", "Cardiff", "Sheffield")


def ascii_slug(text: str) -> str:
    """'Établissements Dupont & Fils' → 'etablissements-dupont-fils'."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


def uk_sic(naf: str) -> str:
    """A UK SIC 2007 code from the matching NAF code: '49.41A' → '49410'."""
    return (naf[:2] + naf[3:5] + "0")[:5]


def business_name(rng: random.Random, country: str) -> tuple[str, int]:
    """A company name and the index of its trade in TRADES."""
    trade_index = rng.randrange(len(TRADES))
    fr_trade, en_trade, _ = TRADES[trade_index]
    if country == "FR":
        pattern = rng.choice(FR_PATTERNS)
        name = pattern.format(
            trade=fr_trade,
            surname=rng.choice(FR_SURNAMES),
            surname2=rng.choice(FR_SURNAMES),
            place=rng.choice(FR_PLACES),
        )
        return f"{name} {rng.choice(FR_FORMS)}", trade_index
    places = IE_PLACES if country == "IE" else UK_PLACES
    pattern = rng.choice(UK_PATTERNS)
    name = pattern.format(
        trade=en_trade, surname=rng.choice(UK_SURNAMES), surname2=rng.choice(UK_SURNAMES), place=rng.choice(places)
    )
    return f"{name} {rng.choice(UK_FORMS)}", trade_index


def person_name(rng: random.Random, language: str) -> tuple[str, str]:
    """(first name, last name) in the language's naming style."""
    if language == "fr":
        return rng.choice(FR_FIRST), rng.choice(FR_SURNAMES)
    return rng.choice(UK_FIRST), rng.choice(UK_SURNAMES)


def phone(rng: random.Random, country: str) -> str:
    """Numbers from the ranges reserved for fiction (ARCEP 01 99 00, Ofcom 020 7946 0)."""
    if country == "FR":
        return f"+33 1 99 00 {rng.randrange(100):02d} {rng.randrange(100):02d}"
    if country == "IE":
        return f"+353 20 910 {rng.randrange(10000):04d}"
    return f"+44 20 7946 0{rng.randrange(1000):03d}"
