import io

from PIL import Image

from characters.avatars import default_style, generate_avatar
from characters.seed_data import SEED_CHARACTERS

CARD_FIELDS = {
    "name", "tagline", "description", "personality", "scenario", "first_mes",
    "alternate_greetings", "mes_example", "system_prompt", "post_history_instructions",
    "tags", "creator_notes", "language", "content_rating", "palette", "emblem",
}


def test_avatar_is_a_png_of_the_requested_size():
    data = generate_avatar("Odessa Vane", ("#c9973a", "#5a2a27"), "gear", size=128)
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    assert image.size == (128, 128)


def test_same_character_always_gets_the_same_avatar():
    assert generate_avatar("Someone New") == generate_avatar("Someone New")
    assert generate_avatar("Someone New") != generate_avatar("Someone Else")


def test_different_names_get_different_default_palettes():
    names = ["Alice", "Bob", "Captain Nemo", "Zed the Wanderer", "mary", "Quill"]
    palettes = {default_style(name)[0] for name in names}
    assert len(palettes) == len(names)


def test_seed_characters_have_every_card_field_and_distinct_names():
    assert len(SEED_CHARACTERS) >= 6
    assert len({c["name"] for c in SEED_CHARACTERS}) == len(SEED_CHARACTERS)
    for card in SEED_CHARACTERS:
        assert set(card) == CARD_FIELDS, card["name"]
        assert len(card["alternate_greetings"]) == 2
        assert card["mes_example"].startswith("<START>")
        assert "{{user}}:" in card["mes_example"] and "{{char}}:" in card["mes_example"]
        assert 3 <= len(card["tags"]) <= 5
        assert all(tag == tag.lower() for tag in card["tags"])
        assert card["content_rating"] == "sfw" and card["language"] == "en"
        Image.open(io.BytesIO(generate_avatar(card["name"], card["palette"], card["emblem"]))).verify()
