"""Products, platforms and compatibility answers from data/demo/catalogue.yml."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from actions.backends import (
    BackendConfigError,
    Compatibility,
    CompatibilityStatus,
    NotFound,
    Platform,
    Product,
    YamlCatalogue,
)
from actions.backends.settings import ROOT
from tests.actions.backends.conftest import CATALOGUE

PULSE_2 = Product(
    product_id="pulse-2",
    name="Brightwave Pulse 2",
    kind="smartwatch",
    aliases=("pulse 2", "pulse2", "pulse two", "pulse 2 watch", "the pulse watch",
             "brightwave watch"),
    price_eur=Decimal("249"),
    warranty_months=24,
)  # fmt: skip
IOS = Platform("ios", "iOS")
PULSE_2_IOS_NOTES = (
    "Needs iOS 17 or later, although the app itself runs on iOS 16. You can read and dismiss "
    "notifications on the watch, but not reply to them."
)


@pytest.fixture
def catalogue() -> YamlCatalogue:
    return YamlCatalogue(CATALOGUE)


async def test_products_are_found_by_id_name_or_alias_in_any_spelling(
    catalogue: YamlCatalogue,
) -> None:
    spellings = ["pulse-2", "Pulse 2", "PULSE2", " brightwave  pulse 2 ", "the pulse watch",
                 "Pulse-Two"]  # fmt: skip
    assert [await catalogue.find_product(text) for text in spellings] == [PULSE_2] * 6
    assert await catalogue.find_product("pulse 3") is None
    assert [p.product_id for p in await catalogue.products()] == [
        "pulse-2", "pulse-lite", "buds-pro", "buds-2", "hub-mini", "cam-360", "cam-outdoor",
        "soundbar-s", "scale-one",
    ]  # fmt: skip


async def test_platforms_are_found_by_the_words_customers_use(catalogue: YamlCatalogue) -> None:
    words = ["iphone", "iOS", "my ipad", "ipad", "Mac", "HomeKit", "echo", "toslink", "TV"]
    found = [await catalogue.find_platform(word) for word in words]
    assert [p.platform_id if p else None for p in found] == [
        "ios", "ios", None, "ipados", "macos", "apple-home", "alexa", "optical", "hdmi-arc",
    ]  # fmt: skip


async def test_a_listed_pair_answers_with_notes_and_the_article(catalogue: YamlCatalogue) -> None:
    answer = await catalogue.compatibility("pulse 2", "iPhone")
    assert answer == Compatibility(
        product=PULSE_2,
        platform=IOS,
        status=CompatibilityStatus.SUPPORTED,
        matrix_status=CompatibilityStatus.SUPPORTED,
        min_version="17",
        os_version=None,
        meets_min_version=None,
        notes=PULSE_2_IOS_NOTES,
        article_id="compatibility-pulse-2",
    )
    assert answer.article_url == ("https://help.brightwave.example/articles/compatibility-pulse-2")


@pytest.mark.parametrize(
    ("product", "platform", "version", "status", "meets"),
    [
        ("pulse 2", "ios", "iOS 16.7", CompatibilityStatus.UNSUPPORTED, False),
        ("pulse 2", "ios", "17", CompatibilityStatus.SUPPORTED, True),
        ("hub mini", "apple home", "16.0.3", CompatibilityStatus.UNSUPPORTED, False),
        ("hub mini", "apple home", "16.1", CompatibilityStatus.SUPPORTED, True),
        ("buds 2", "android", "Android 12", CompatibilityStatus.LIMITED, True),
        ("pulse lite", "strava", "3", CompatibilityStatus.UNSUPPORTED, None),
        ("cam 360", "alexa", "whatever", CompatibilityStatus.SUPPORTED, None),
    ],
)
async def test_the_os_version_is_compared_with_the_minimum(
    catalogue: YamlCatalogue,
    product: str,
    platform: str,
    version: str,
    status: CompatibilityStatus,
    meets: bool | None,
) -> None:
    answer = await catalogue.compatibility(product, platform, version)
    assert (answer.status, answer.meets_min_version) == (status, meets)


async def test_a_pair_missing_from_the_matrix_is_unsupported_without_notes(
    catalogue: YamlCatalogue,
) -> None:
    answer = await catalogue.compatibility("pulse 2", "windows", "11")
    assert (answer.status, answer.matrix_status, answer.notes, answer.os_version) == (
        CompatibilityStatus.UNSUPPORTED,
        None,
        "",
        "11",
    )
    assert answer.article_id == "compatibility-pulse-2"


async def test_unknown_products_and_platforms_are_not_found(catalogue: YamlCatalogue) -> None:
    errors = []
    for product, platform in (("pulse 9", "ios"), ("pulse 2", "blackberry")):
        with pytest.raises(NotFound) as raised:
            await catalogue.compatibility(product, platform)
        errors.append((raised.value.kind, raised.value.key))
    assert errors == [("product", "pulse 9"), ("platform", "blackberry")]


async def test_all_platforms_of_a_product_in_matrix_order(catalogue: YamlCatalogue) -> None:
    answers = await catalogue.compatibilities("Soundbar")
    assert [(a.platform.platform_id, a.status) for a in answers] == [
        ("hdmi-arc", CompatibilityStatus.SUPPORTED),
        ("optical", CompatibilityStatus.LIMITED),
        ("android", CompatibilityStatus.SUPPORTED),
        ("ios", CompatibilityStatus.SUPPORTED),
        ("alexa", CompatibilityStatus.SUPPORTED),
        ("google-home", CompatibilityStatus.SUPPORTED),
        ("apple-home", CompatibilityStatus.LIMITED),
        ("windows", CompatibilityStatus.SUPPORTED),
        ("macos", CompatibilityStatus.SUPPORTED),
    ]


async def test_every_compatibility_article_exists_in_the_help_center(
    catalogue: YamlCatalogue,
) -> None:
    articles = {path.stem for path in (ROOT / "data" / "kb").rglob("*.md")}
    for product in await catalogue.products():
        answer = (await catalogue.compatibilities(product.product_id))[0]
        assert answer.article_id in articles


async def test_an_alias_naming_two_products_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.yml"
    path.write_text(CATALOGUE.read_text().replace("aliases: [buds 2,", "aliases: [pulse 2,"))
    with pytest.raises(BackendConfigError) as raised:
        await YamlCatalogue(path).find_product("buds 2")
    assert raised.value.reason == "'pulse 2' names both 'pulse-2' and 'buds-2'"


async def test_phone_models_are_found_with_the_newest_os_they_run(catalogue: YamlCatalogue) -> None:
    found = [
        await catalogue.find_device(t)
        for t in ("iphone 8", "iPhone8 Plus", "Galaxy S9", "pixel 6a")
    ]
    assert [(d.name, d.platform_id, d.max_os_version) if d else None for d in found] == [
        ("iPhone 8", "ios", "16"),
        ("iPhone 8", "ios", "16"),
        ("Samsung Galaxy S9", "android", "10"),
        ("Google Pixel 6", "android", None),
    ]
    assert await catalogue.find_device("iphone") is None
    assert await catalogue.find_device("pulse 2") is None


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("platform: ios", "platform: symbian", "device 'iPhone 8' of unknown platform 'symbian'"),
        ('"16"', '"sixteen"', "device 'iPhone 8': max_os 'sixteen' is no version"),
    ],
)
async def test_a_broken_devices_table_is_a_config_error(
    tmp_path: Path, old: str, new: str, reason: str
) -> None:
    text = CATALOGUE.read_text()
    line = next(line for line in text.splitlines() if "name: iPhone 8," in line)
    broken = line.replace(old, new)
    path = tmp_path / "catalogue.yml"
    path.write_text(text.replace(line, broken))
    with pytest.raises(BackendConfigError) as raised:
        await YamlCatalogue(path).find_device("iphone 8")
    assert raised.value.reason == reason
