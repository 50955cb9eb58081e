"""Products, platforms and the compatibility matrix from ``data/demo/catalogue.yml``.

The file is the single source of truth (the help-center compatibility articles
are written from it), for the demo and the HTTP backend alike. It is read on
first use and kept in memory.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from actions.backends.errors import BackendConfigError, NotFound
from actions.backends.models import Compatibility, CompatibilityStatus, Device, Platform, Product

# Words customers use for platforms, besides the catalogue's ids and names.
PLATFORM_ALIASES: dict[str, tuple[str, ...]] = {
    "android": ("android phone", "samsung", "pixel", "google pixel"),
    "ios": ("iphone", "apple iphone", "ios phone"),
    "ipados": ("ipad", "ipad os"),
    "windows": ("windows pc", "pc", "windows laptop"),
    "macos": ("mac", "macbook", "imac", "mac os", "osx", "os x"),
    "web": ("browser", "web browser", "website", "chrome", "firefox", "safari", "edge"),
    "apple-health": ("apple health", "health app", "apple health app"),
    "health-connect": ("health connect", "google health connect", "google fit"),
    "strava": (),
    "alexa": ("amazon alexa", "echo", "amazon echo", "echo show"),
    "google-home": ("google home", "google nest", "nest", "nest hub", "google assistant"),
    "apple-home": ("apple home", "homekit", "apple homekit", "home app"),
    "matter": (),
    "smartthings": ("samsung smartthings", "smart things"),
    "hdmi-arc": ("hdmi", "hdmi arc", "earc", "hdmi earc", "arc", "tv"),
    "optical": ("toslink", "optical cable", "optical input"),
}

_VERSION = re.compile(r"\d+(?:\.\d+)*")


def lookup_key(text: str) -> str:
    """What names are compared by: lower case, without spaces, hyphens, dots."""
    return re.sub("[\\s\\-_.'\u2019]+", "", text.strip().lower())


def version_tuple(text: str) -> tuple[int, ...] | None:
    """``(16, 1)`` for ``"16.1"``, ``"iOS 16.1"`` or ``"android 16.1.2"``-like text."""
    match = _VERSION.search(text)
    return tuple(int(part) for part in match.group(0).split(".")) if match else None


class _ProductEntry(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str
    name: str
    kind: str
    aliases: list[str] = []
    price_eur: Decimal
    warranty_months: int
    released: date | None = None


class _PlatformEntry(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str
    name: str


class _MatrixEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product: str
    platform: str
    min_version: str | None
    status: CompatibilityStatus
    notes: str


class _DeviceEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    aliases: list[str] = []
    platform: str
    max_os: str | None


class _CatalogueFile(BaseModel):
    model_config = ConfigDict(extra="ignore")
    products: list[_ProductEntry]
    platforms: list[_PlatformEntry]
    compatibility: list[_MatrixEntry]
    devices: list[_DeviceEntry] = []
    other_brands: list[str] = []


@dataclass(frozen=True)
class _Loaded:
    products: dict[str, Product]
    platforms: dict[str, Platform]
    product_keys: dict[str, str]
    platform_keys: dict[str, str]
    matrix: dict[tuple[str, str], _MatrixEntry]
    devices: dict[str, Device]
    other_brands: tuple[re.Pattern[str], ...] = ()


def _index(source: str, names_by_id: dict[str, list[str]]) -> dict[str, str]:
    index: dict[str, str] = {}
    for item_id, names in names_by_id.items():
        for name in names:
            key = lookup_key(name)
            if index.get(key, item_id) != item_id:
                raise BackendConfigError(
                    source, f"{name!r} names both {index[key]!r} and {item_id!r}"
                )
            index[key] = item_id
    return index


def load_catalogue(path: Path) -> _Loaded:
    source = str(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        parsed = _CatalogueFile.model_validate(raw)
    except OSError as error:
        raise BackendConfigError(source, f"cannot read ({error.strerror})") from error
    except (yaml.YAMLError, ValidationError) as error:
        raise BackendConfigError(source, f"invalid catalogue: {error}") from error
    products = {
        entry.id: Product(
            product_id=entry.id,
            name=entry.name,
            kind=entry.kind,
            aliases=tuple(entry.aliases),
            price_eur=entry.price_eur,
            warranty_months=entry.warranty_months,
        )
        for entry in parsed.products
    }
    platforms = {entry.id: Platform(entry.id, entry.name) for entry in parsed.platforms}
    matrix: dict[tuple[str, str], _MatrixEntry] = {}
    for entry in parsed.compatibility:
        if entry.product not in products or entry.platform not in platforms:
            raise BackendConfigError(
                source, f"compatibility of unknown {entry.product!r} / {entry.platform!r}"
            )
        matrix[(entry.product, entry.platform)] = entry
    devices: dict[str, Device] = {}
    for device in parsed.devices:
        if device.platform not in platforms:
            raise BackendConfigError(
                source, f"device {device.name!r} of unknown platform {device.platform!r}"
            )
        if device.max_os is not None and version_tuple(device.max_os) is None:
            raise BackendConfigError(
                source, f"device {device.name!r}: max_os {device.max_os!r} is no version"
            )
        found = Device(device.name, device.platform, device.max_os)
        for name in (device.name, *device.aliases):
            key = lookup_key(name)
            if devices.get(key, found) != found:
                raise BackendConfigError(
                    source, f"{name!r} names both {devices[key].name!r} and {device.name!r}"
                )
            devices[key] = found
    return _Loaded(
        products=products,
        platforms=platforms,
        product_keys=_index(
            source, {p.product_id: [p.product_id, p.name, *p.aliases] for p in products.values()}
        ),
        platform_keys=_index(
            source,
            {
                p.platform_id: [p.platform_id, p.name, *PLATFORM_ALIASES.get(p.platform_id, ())]
                for p in platforms.values()
            },
        ),
        matrix=matrix,
        devices=devices,
        other_brands=tuple(whole_words(name) for name in parsed.other_brands if name.strip()),
    )


def whole_words(name: str) -> re.Pattern[str]:
    """``name`` as whole words, any spacing or hyphen between them, any case."""
    words = [re.escape(word) for word in re.split(r"[\s-]+", name.strip())]
    return re.compile(r"\b" + r"[\s-]*".join(words) + r"\b", re.IGNORECASE)


class YamlCatalogue:
    """``CatalogueBackend`` over a catalogue YAML file (read once, on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._loaded: _Loaded | None = None
        self._lock = threading.Lock()

    def _data(self) -> _Loaded:
        with self._lock:
            if self._loaded is None:
                self._loaded = load_catalogue(self.path)
            return self._loaded

    async def products(self) -> list[Product]:
        return list(self._data().products.values())

    async def find_product(self, text: str) -> Product | None:
        data = self._data()
        product_id = data.product_keys.get(lookup_key(text))
        return None if product_id is None else data.products[product_id]

    async def find_platform(self, text: str) -> Platform | None:
        data = self._data()
        platform_id = data.platform_keys.get(lookup_key(text))
        return None if platform_id is None else data.platforms[platform_id]

    async def find_device(self, text: str) -> Device | None:
        return self._data().devices.get(lookup_key(text))

    async def other_brand_in(self, text: str) -> str | None:
        for pattern in self._data().other_brands:
            found = pattern.search(text)
            if found:
                return found.group(0)
        return None

    async def compatibility(
        self, product: str, platform: str, os_version: str | None = None
    ) -> Compatibility:
        found_product = await self.find_product(product)
        if found_product is None:
            raise NotFound("product", product)
        found_platform = await self.find_platform(platform)
        if found_platform is None:
            raise NotFound("platform", platform)
        entry = self._data().matrix.get((found_product.product_id, found_platform.platform_id))
        return _answer(found_product, found_platform, entry, os_version)

    async def compatibilities(self, product: str) -> list[Compatibility]:
        found = await self.find_product(product)
        if found is None:
            raise NotFound("product", product)
        data = self._data()
        return [
            _answer(found, data.platforms[platform_id], entry, None)
            for (product_id, platform_id), entry in data.matrix.items()
            if product_id == found.product_id
        ]


def _answer(
    product: Product, platform: Platform, entry: _MatrixEntry | None, os_version: str | None
) -> Compatibility:
    article_id = f"compatibility-{product.product_id}"
    asked = version_tuple(os_version) if os_version else None
    shown_version = ".".join(map(str, asked)) if asked else None
    if entry is None:
        return Compatibility(
            product=product,
            platform=platform,
            status=CompatibilityStatus.UNSUPPORTED,
            matrix_status=None,
            min_version=None,
            os_version=shown_version,
            meets_min_version=None,
            notes="",
            article_id=article_id,
        )
    minimum = version_tuple(entry.min_version) if entry.min_version else None
    meets = None if asked is None or minimum is None else asked >= minimum
    status = CompatibilityStatus.UNSUPPORTED if meets is False else entry.status
    return Compatibility(
        product=product,
        platform=platform,
        status=status,
        matrix_status=entry.status,
        min_version=entry.min_version,
        os_version=shown_version,
        meets_min_version=meets,
        notes=entry.notes,
        article_id=article_id,
    )
