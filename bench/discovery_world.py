"""The themed catalog and the hidden user models of the discovery evaluation (issue 20).

A catalog is written the way a young community would write it: characters in 8 distinct themes,
each theme in its tags and in its description, plus one cross-cutting mood tag (romance, comedy,
...) that every theme shares. Everything comes from a seeded generator, so a run is repeatable.

The user models decide a swipe from hidden labels (theme, tags, a per-character appeal), never from
the recommender's scores; only the "embedding" model likes by cosine in the embedding space, and it
is there on purpose: it is the assumption the old benchmark made."""
import math
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

THEMES = {
    "fantasy": dict(
        tags=["fantasy", "magic", "dragons", "elves", "quest"],
        roles=["elven archer", "court wizard", "dragon rider", "hedge witch", "knight errant",
               "runesmith", "fae princess", "wandering bard"],
        places=["an enchanted forest", "a floating citadel", "the Dragon Peaks",
                "a crumbling wizard's tower", "the elven court of Silverbough"],
        hooks=["casts spells of fire and frost", "guards an ancient rune-sword",
               "rides a young dragon into battle", "brews potions under the full moon",
               "seeks a lost spellbook", "speaks with the spirits of the old wood"]),
    "space": dict(
        tags=["sci-fi", "space", "starship", "aliens", "galaxy"],
        roles=["starship captain", "alien diplomat", "orbital engineer", "fighter pilot",
               "xenobiologist", "android navigator", "smuggler", "station commander"],
        places=["the edge of the Andromeda frontier", "a derelict warship",
                "a mining station above Jupiter", "the flagship of the star fleet",
                "a colony on a frozen moon"],
        hooks=["charts wormholes between galaxies", "negotiates with insectoid aliens",
               "repairs a failing hyperdrive", "flies patrols through the asteroid belt",
               "decodes a signal from deep space", "commands a crew of misfit spacers"]),
    "horror": dict(
        tags=["horror", "ghosts", "haunted", "occult", "supernatural"],
        roles=["ghost", "exorcist", "cursed doll maker", "vampire count", "grave keeper",
               "paranormal investigator", "possessed child", "plague doctor"],
        places=["a haunted Victorian manor", "an abandoned asylum", "a fog-bound cemetery",
                "a cabin deep in the dead woods", "the cellar of a cursed church"],
        hooks=["whispers from behind the wallpaper", "hunts demons with salt and iron",
               "hears the dead scratching at night", "keeps a jar of stolen souls",
               "performs blood rituals at midnight", "cannot leave the house where it died"]),
    "mystery": dict(
        tags=["mystery", "detective", "crime", "noir", "investigation"],
        roles=["private detective", "police inspector", "forensic pathologist",
               "jewel thief", "crime reporter", "retired spy", "amateur sleuth",
               "mob lawyer"],
        places=["rain-soaked 1940s Chicago", "a foggy London precinct", "a locked-room manor",
                "the docks of a corrupt port city", "a small town with a dark secret"],
        hooks=["solves murders nobody else can", "follows a trail of clues and alibis",
               "interrogates suspects in smoky rooms", "tracks a serial killer",
               "uncovers a conspiracy at city hall", "reads a crime scene like a book"]),
    "cozy": dict(
        tags=["cozy", "slice of life", "cafe", "baking", "cottagecore"],
        roles=["cafe owner", "village baker", "florist", "librarian", "tea shop keeper",
               "knitting grandmother", "barista", "bookshop cat lady"],
        places=["a sleepy seaside village", "a little corner cafe", "a cottage with a garden",
                "a warm bakery on Maple Street", "a small-town bookshop"],
        hooks=["bakes cinnamon rolls every morning", "brews the perfect cup of tea",
               "tends a garden of herbs and roses", "knits scarves for the neighbours",
               "hosts rainy-day reading circles", "knows every regular's favourite pastry"]),
    "pirates": dict(
        tags=["pirates", "sea", "treasure", "sailing", "high seas"],
        roles=["pirate captain", "ship's navigator", "buccaneer", "mermaid", "quartermaster",
               "naval officer", "cabin boy", "sea witch"],
        places=["a galleon on the Caribbean", "a smugglers' cove", "a port full of taverns",
                "an island of buried gold", "the deck of the Black Gull"],
        hooks=["hunts for buried treasure", "sails through storms and cannon fire",
               "reads old sea charts by lantern light", "duels with a cutlass",
               "plunders merchant ships", "sings shanties with the crew"]),
    "apocalypse": dict(
        tags=["post-apocalyptic", "wasteland", "survival", "zombies", "dystopia"],
        roles=["wasteland scavenger", "bunker medic", "raider chief", "zombie hunter",
               "caravan trader", "mutant outcast", "survivalist", "militia sniper"],
        places=["the ruins of a nuclear city", "an irradiated desert", "a fortified bunker",
                "an overgrown highway after the collapse", "a walled survivor camp"],
        hooks=["scavenges for water and ammunition", "fights off hordes of the undead",
               "patches wounds with scraps", "trades fuel across the wasteland",
               "survives the radiation storms", "guards the last clean well"]),
    "superhero": dict(
        tags=["superhero", "superpowers", "villain", "vigilante", "comics"],
        roles=["masked vigilante", "super villain", "sidekick", "telekinetic hero",
               "speedster", "retired cape", "mad scientist", "hero academy student"],
        places=["the skyline of Metro City", "a secret lair under the harbour",
                "a hero training academy", "a city protected by a superhero league",
                "a lab where the powers were born"],
        hooks=["fights crime with superhuman strength", "hides a secret identity",
               "battles an archnemesis across rooftops", "controls lightning",
               "saves the city from doomsday devices", "wears a cape and a mask at night"]),
}
MOODS = {
    "romance": "Falls in love easily and flirts shamelessly.",
    "comedy": "Cracks jokes at the worst possible moments.",
    "angst": "Carries a painful past and broods about it.",
    "wholesome": "Is kind, gentle and always ready to help.",
    "adventure": "Lives for danger, thrills and the unknown.",
    "slow burn": "Opens up only slowly, to those who earn it.",
    "mentor": "Loves to teach and guide a newcomer.",
    "rival": "Competes with you at every turn.",
}
FIRST = ["Ari", "Bran", "Cass", "Dara", "Eli", "Fen", "Gwen", "Hale", "Ivo", "Juno", "Kai", "Lys",
         "Mira", "Nox", "Oren", "Pia", "Quin", "Rhea", "Sol", "Tam", "Una", "Vex", "Wren", "Yara",
         "Zed"]
LAST = ["Ashford", "Blackwood", "Crane", "Dunmore", "Everly", "Frost", "Grey", "Holloway", "Ives",
        "Kestrel", "Lark", "Marsh", "Nightingale", "Oakes", "Pike", "Quill", "Reyes", "Stone",
        "Thorne", "Vale", "Wilde"]
THEME_NAMES = list(THEMES)


@dataclass
class Character:
    name: str
    tagline: str
    description: str
    tags: list[str]
    theme: int
    mood: str
    appeal: float        # hidden: how likeable to everyone
    age_days: float
    creator: int


def make_catalog(n: int, rng: np.random.Generator, new_share: float = 1.0) -> list[Character]:
    """n characters spread evenly over the 8 themes; `new_share` of them created in the last 10
    days (1.0: a cold catalog where every character is new)."""
    out = []
    creators_new = 0
    for i in range(n):
        theme = i % len(THEMES)
        spec = THEMES[THEME_NAMES[theme]]
        name = f"{FIRST[rng.integers(len(FIRST))]} {LAST[rng.integers(len(LAST))]} {i}"
        role = spec["roles"][rng.integers(len(spec["roles"]))]
        place = spec["places"][rng.integers(len(spec["places"]))]
        hooks = rng.choice(spec["hooks"], 2, replace=False)
        mood = list(MOODS)[rng.integers(len(MOODS))]
        theme_tags = list(rng.choice(spec["tags"], 2, replace=False))
        is_new = rng.random() < new_share
        age = rng.uniform(0.5, 10) if is_new else rng.uniform(30, 700)
        if is_new and rng.random() < 0.5:
            creators_new += 1
            creator = 10_000 + creators_new          # a new creator's first character
        else:
            creator = int(rng.integers(1, max(2, n // 4)))
        out.append(Character(
            name=name, tagline=f"A {role} from {place}.",
            description=f"{{{{char}}}} is a {role} from {place} who {hooks[0]} and {hooks[1]}. "
                        f"{MOODS[mood]}",
            tags=theme_tags + [mood], theme=theme, mood=mood,
            appeal=float(rng.normal(0, 1)), age_days=float(age), creator=creator))
    order = rng.permutation(n)  # ids in a random order, not theme by theme
    return [out[i] for i in order]


# -- the hidden user models --------------------------------------------------------------------

def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _logit(p):
    return math.log(p / (1 - p))


@dataclass
class HiddenUser:
    """like_probability(swipe_index) -> (n,) probabilities over the catalog's characters."""
    kind: str
    phases: list[np.ndarray] = field(default_factory=list)   # probabilities per phase
    switch_at: Optional[int] = None                          # swipe index where phase 2 begins

    def probabilities(self, swipe_index: int) -> np.ndarray:
        if self.switch_at is not None and swipe_index >= self.switch_at:
            return self.phases[1]
        return self.phases[0]


def theme_lover(catalog, rng, loves: int, p_love=0.8, p_other=0.05, appeal=0.5,
                kind="two_theme") -> HiddenUser:
    themes = np.array([c.theme for c in catalog])
    loved = rng.choice(len(THEMES), loves, replace=False)
    return HiddenUser(kind, [_theme_probabilities(catalog, themes, loved, p_love, p_other,
                                                  appeal)])


def drifting(catalog, rng, switch_at=20, p_love=0.8, p_other=0.05) -> HiddenUser:
    """Loves themes A and B for the first `switch_at` swipes, then A and C."""
    themes = np.array([c.theme for c in catalog])
    a, b, c = rng.choice(len(THEMES), 3, replace=False)
    return HiddenUser("drift", [
        _theme_probabilities(catalog, themes, [a, b], p_love, p_other, 0.5),
        _theme_probabilities(catalog, themes, [a, c], p_love, p_other, 0.5)], switch_at)


def noisy(catalog, rng) -> HiddenUser:
    """Two loved themes, but a weak and noisy signal: 60 % vs 15 %, plus a personal whim per
    character (a random logit shift, sd 1)."""
    themes = np.array([c.theme for c in catalog])
    loved = rng.choice(len(THEMES), 2, replace=False)
    base = np.where(np.isin(themes, loved), _logit(0.6), _logit(0.15))
    whim = rng.normal(0, 1.0, len(catalog))
    appeal = np.array([c.appeal for c in catalog])
    return HiddenUser("noisy", [_sigmoid(base + whim + 0.5 * appeal)])


def tag_driven(catalog, rng) -> HiddenUser:
    """Likes by tags alone: two loved tags (one mood, one theme tag of some theme), one disliked
    mood. Each loved tag +3 logits, the disliked one -2, on a base of 8 %."""
    mood_tags = list(MOODS)
    loved_mood, hated = rng.choice(mood_tags, 2, replace=False)
    theme = THEME_NAMES[rng.integers(len(THEMES))]
    loved_theme_tag = THEMES[theme]["tags"][rng.integers(5)]
    prefs = {loved_mood: 3.0, loved_theme_tag: 3.0, hated: -2.0}
    z = np.array([_logit(0.08) + sum(prefs.get(t, 0.0) for t in c.tags) + 0.4 * c.appeal
                  for c in catalog])
    return HiddenUser("tag", [_sigmoid(z)])


def embedding_user(catalog, vectors, rng, a=9.0) -> HiddenUser:
    """The old benchmark's assumption: likes by cosine to a hidden taste in the recommender's
    own embedding space (the mean of two random characters' vectors, plus noise), calibrated so
    that about a quarter of the catalog is liked."""
    pick = rng.choice(len(catalog), 2, replace=False)
    taste = vectors[pick].sum(axis=0) + rng.normal(0, 0.5 / math.sqrt(vectors.shape[1]),
                                                   vectors.shape[1])
    taste /= np.linalg.norm(taste)
    cos = vectors @ taste
    appeal = np.array([c.appeal for c in catalog])
    z = a * cos + 0.5 * appeal
    offset = _offset_for_mean(z, 0.25)
    return HiddenUser("embedding", [_sigmoid(z + offset)])


def _theme_probabilities(catalog, themes, loved, p_love, p_other, appeal_weight):
    appeal = np.array([c.appeal for c in catalog])
    base = np.where(np.isin(themes, loved), _logit(p_love), _logit(p_other))
    return _sigmoid(base + appeal_weight * appeal)


def _offset_for_mean(z, target):
    lo, hi = -30.0, 30.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if _sigmoid(z + mid).mean() < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


USER_MODELS = {
    "two_theme": lambda cat, vec, rng: theme_lover(cat, rng, 2),
    "three_theme": lambda cat, vec, rng: theme_lover(cat, rng, 3, kind="three_theme"),
    "tag": lambda cat, vec, rng: tag_driven(cat, rng),
    "noisy": lambda cat, vec, rng: noisy(cat, rng),
    "drift": lambda cat, vec, rng: drifting(cat, rng),
    "embedding": lambda cat, vec, rng: embedding_user(cat, vec, rng),
}
