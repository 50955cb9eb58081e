"""Compatibility: "does the Pulse 2 work with my iPhone / Android 12?",
answered from the catalogue's compatibility matrix with the help-center
article (``compatibility-<product id>``). No verification: nothing personal.

"The app" counts as a product: its requirements are the lowest version any
device needs on a platform (``which-phones-work``).
"""

from __future__ import annotations

import re
from typing import Any

from actions.backends import (
    CatalogueBackend,
    Compatibility,
    CompatibilityStatus,
    Device,
    NotFound,
    Outcome,
    Product,
)
from actions.tier1.base import Completion, Flow, FlowContext, Verdict, Verification
from actions.tier1.flow import FlowSubmit, FlowValidator
from actions.tier1.messages import Message, article_url, button, message
from actions.tier1.parsing import os_version_of

APP = "app"
APP_ARTICLE = "which-phones-work"
MAX_WORDS = 4
_WORD = re.compile(r"[\w'\u2019+-]+")
_APP = re.compile(r"\b(?:the\s+)?(?:brightwave\s+)?app\b", re.IGNORECASE)
APP_PLATFORMS = ("android", "ios", "ipados")
# What a follow-up ("and the pulse lite?", "and on android?") keeps from the
# previous answer when the message does not name it.
FOLLOW_UP_SLOTS = ("compat_product", "compat_platform", "compat_device")


def phrases(text: str) -> list[str]:
    """Word sequences of ``text``, longest first (``pulse 2 watch`` -> ``pulse 2``)."""
    words = _WORD.findall(text)[:40]
    found: list[str] = []
    for size in range(min(MAX_WORDS, len(words)), 0, -1):
        found.extend(" ".join(words[i : i + size]) for i in range(len(words) - size + 1))
    return found


COMPATIBILITY_ACTION = "action_compatibility"


def answered_compatibility_last(events: list[dict[str, Any]]) -> bool:
    """Whether the customer's previous message got a compatibility answer."""
    users = [i for i, event in enumerate(events) if event.get("event") == "user"]
    if len(users) < 2:
        return False
    return any(
        event.get("event") == "action" and event.get("name") == COMPATIBILITY_ACTION
        for event in events[users[-2] + 1 : users[-1]]
    )


def last_answered(events: list[dict[str, Any]]) -> dict[str, str]:
    """The product, platform and device of the previous compatibility answer
    (its slots' last values before they were cleared)."""
    found: dict[str, str] = {}
    for event in events:
        named = event.get("name") in FOLLOW_UP_SLOTS and event.get("value")
        if event.get("event") == "slot" and named:
            found[str(event["name"])] = str(event["value"])
    return found


async def names_compatibility_subject(catalogue: CatalogueBackend, text: str) -> bool:
    """Whether a message names a product, system or phone model of the catalogue."""
    return (
        await product_of(catalogue, (), text) is not None
        or await platform_of(catalogue, (), text) is not None
    )


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


async def product_of(
    catalogue: CatalogueBackend, entities: tuple[str, ...], text: str
) -> str | None:
    """The product id the customer means, ``app`` for the Brightwave app."""
    for candidate in (*entities, *phrases(text)):
        if candidate.strip().lower() == APP:
            return APP
        product = await catalogue.find_product(candidate)
        if product is not None:
            return product.product_id
    return APP if _APP.search(text) else None


async def device_of(catalogue: CatalogueBackend, text: str) -> Device | None:
    """A phone or tablet model the customer named (``my iphone 8``)."""
    for candidate in phrases(text):
        device = await catalogue.find_device(candidate)
        if device is not None:
            return device
    return None


async def platform_of(
    catalogue: CatalogueBackend, entities: tuple[str, ...], text: str
) -> str | None:
    device = await device_of(catalogue, text)
    if device is not None:
        return device.platform_id
    for candidate in (*entities, *phrases(text)):
        platform = await catalogue.find_platform(candidate)
        if platform is not None:
            return platform.platform_id
    return None


def article(title: str, article_id: str, passage: str) -> dict[str, str]:
    return {
        "type": "article",
        "title": title,
        "url": article_url(article_id),
        "passage": passage,
        "source": "Help center",
        "doc_id": article_id,
    }


def answer_text(found: Compatibility) -> str:
    """The matrix's answer for one product and platform, in words."""
    product, platform = found.product.name, found.platform.name
    asked = f"{platform} {found.os_version}" if found.os_version else platform
    needs = f" It needs {platform} {found.min_version} or later." if found.min_version else ""
    notes = f" {found.notes}" if found.notes else ""
    if found.matrix_status is None:
        return f"No: the {product} isn't made to work with {platform}."
    if found.meets_min_version is False:
        return (
            f"No: the {product} needs {platform} {found.min_version} or later, so it won't "
            f"work with {asked}.{notes}"
        )
    if found.status is CompatibilityStatus.SUPPORTED:
        return (
            f"Yes, the {product} works with {asked}.{needs if not found.os_version else ''}{notes}"
        )
    if found.status is CompatibilityStatus.LIMITED:
        return f"Partly: the {product} works with {asked}, with limits.{notes}"
    return f"No: the {product} doesn't work with {platform}.{notes}"


def device_answer(found: Compatibility, device: Device) -> str:
    """The answer for a phone model: whether it can run the version needed."""
    if found.matrix_status in (None, CompatibilityStatus.UNSUPPORTED) or not found.min_version:
        return answer_text(found)
    product, platform, minimum = found.product.name, found.platform.name, found.min_version
    notes = f" {found.notes}" if found.notes else ""
    limited = " with limits" if found.status is CompatibilityStatus.LIMITED else ""
    most = device.max_os_version
    if most is not None and version_key(most) < version_key(minimum):
        return (
            f"No: the {product} needs {platform} {minimum} or later, and the {device.name} can "
            f"only be updated to {platform} {most}.{notes}"
        )
    reach = f" (it can be updated up to {platform} {most})" if most else ""
    return (
        f"Yes, the {product} works{limited} with the {device.name} once it's updated to "
        f"{platform} {minimum} or later{reach}.{notes}"
    )


def app_answer(
    platform_name: str,
    minimum: str,
    os_version: str | None,
    higher: list[tuple[str, str]],
    device: Device | None = None,
) -> str:
    most = device.max_os_version if device and not os_version else None
    if device and not os_version and most and version_key(most) < version_key(minimum):
        text = (
            f"No: the Brightwave app needs {platform_name} {minimum} or later, and the "
            f"{device.name} can only be updated to {platform_name} {most}."
        )
    elif device and not os_version:
        text = (
            f"Yes, the Brightwave app runs on the {device.name} once it's updated to "
            f"{platform_name} {minimum} or later."
        )
    elif os_version and version_key(os_version) < version_key(minimum):
        text = (
            f"No: the Brightwave app needs {platform_name} {minimum} or later, so it won't run "
            f"on {platform_name} {os_version}."
        )
    elif os_version:
        text = (
            f"Yes, the Brightwave app runs on {platform_name} {os_version} ({minimum} or later "
            "is needed)."
        )
    else:
        text = f"The Brightwave app runs on {platform_name} {minimum} or later."
    if higher:
        listed = ", ".join(f"the {name} needs {platform_name} {v}" for name, v in higher)
        text += f" Some devices need more: {listed}."
    return text


class CompatibilityFlow(Flow):
    form = "compatibility_form"
    slots = ("compat_product", "compat_platform", "compat_os_version", "compat_device")
    triggers = frozenset({"compatibility"})
    verification = Verification.NONE

    async def read(self, ctx: FlowContext, *, product: bool, platform: bool) -> None:
        """Fills whatever the message says: product, platform, OS version."""
        catalogue, turn = ctx.deps.backends.catalogue, ctx.turn
        if product:
            found = await product_of(catalogue, turn.entities.get("product", ()), turn.text)
            if found:
                ctx.set("compat_product", found)
        if platform:
            found = await platform_of(catalogue, turn.entities.get("platform", ()), turn.text)
            if found:
                ctx.set("compat_platform", found)
                device = await device_of(catalogue, turn.text)
                if device is not None:
                    ctx.set("compat_device", device.name)
                version = os_version_of(turn)
                if version:
                    ctx.set("compat_os_version", version)

    async def prefill(self, ctx: FlowContext) -> None:
        await self.read(ctx, product=True, platform=True)
        if self.follows_up(ctx):
            # "and the pulse lite?" after an answer about the Pulse 2 on an
            # iPhone 8: the new product, the same phone (failure class 3).
            previous = last_answered(ctx.events)
            named_platform = ctx.get("compat_platform") is not None
            for slot, value in previous.items():
                if slot == "compat_device" and named_platform:
                    continue  # a newly named system replaces the old phone
                if ctx.get(slot) is None:
                    ctx.set(slot, value)

    def follows_up(self, ctx: FlowContext) -> bool:
        return answered_compatibility_last(ctx.events)

    async def next_slot(self, ctx: FlowContext) -> str | None:
        return next((s for s in ("compat_product", "compat_platform") if ctx.get(s) is None), None)

    async def answers(self, slot: str, ctx: FlowContext) -> bool:
        catalogue, turn = ctx.deps.backends.catalogue, ctx.turn
        if slot == "compat_product":
            return (
                await product_of(catalogue, turn.entities.get("product", ()), turn.text) is not None
            )
        return (
            await platform_of(catalogue, turn.entities.get("platform", ()), turn.text) is not None
        )

    async def ask(self, slot: str, ctx: FlowContext) -> None:
        catalogue = ctx.deps.backends.catalogue
        if slot == "compat_product":
            products = await catalogue.products()
            buttons = [product_button(p) for p in products]
            buttons.append(button("The Brightwave app", '/inform{"product": "app"}'))
            ctx.say(message("Which Brightwave product is it about?", buttons))
            return
        product = ctx.get("compat_product")
        if product == APP:
            platforms = [p for p in APP_PLATFORMS]
            name = "the Brightwave app"
        else:
            found = await catalogue.find_product(str(product))
            name = f"the {found.name}" if found else "it"
            platforms = [
                c.platform.platform_id for c in await catalogue.compatibilities(str(product))
            ]
        buttons = []
        for platform_id in platforms:
            platform = await catalogue.find_platform(platform_id)
            if platform is not None:
                buttons.append(button(platform.name, f'/inform{{"platform": "{platform_id}"}}'))
        ctx.say(
            message(
                f"What do you want to use {name} with? Pick one or type it (like Android 12).",
                buttons,
            )
        )

    async def accept(self, slot: str, ctx: FlowContext) -> Verdict:
        if slot == "compat_product":
            await self.read(ctx, product=True, platform=True)
            if ctx.get("compat_product") is None:
                ctx.say(message("Sorry, I don't know that product. Which one of ours is it?"))
                return Verdict.INVALID
            return Verdict.ACCEPTED
        await self.read(ctx, product=False, platform=True)
        if ctx.get("compat_platform") is None:
            ctx.say(message("Sorry, I don't know that phone or system. Which one is it?"))
            return Verdict.INVALID
        return Verdict.ACCEPTED


def product_button(product: Product) -> dict[str, str]:
    return button(
        product.name.removeprefix("Brightwave "), f'/inform{{"product": "{product.product_id}"}}'
    )


COMPATIBILITY = CompatibilityFlow()


class ValidateCompatibilityForm(FlowValidator):
    flow = COMPATIBILITY


class ActionCompatibility(FlowSubmit):
    flow = COMPATIBILITY

    def name(self) -> str:
        return "action_compatibility"

    async def complete(self, ctx: FlowContext) -> Completion:
        catalogue = ctx.deps.backends.catalogue
        product, platform = str(ctx.get("compat_product")), str(ctx.get("compat_platform"))
        os_version = ctx.get("compat_os_version")
        named = ctx.get("compat_device")
        device = await catalogue.find_device(str(named)) if named else None
        if device is not None and device.platform_id != platform:
            device = None  # the customer named another system after the model
        if product == APP:
            ctx.say(await self.app(catalogue, platform, os_version, device))
            return Completion(Outcome.SELF_SERVICE_ARTICLE, APP_ARTICLE)
        try:
            found = await catalogue.compatibility(product, platform, os_version)
        except NotFound:
            ctx.say(message("Sorry, I don't have compatibility details for that."))
            return Completion(Outcome.RESOLVED_BY_BOT, "unknown")
        text = (
            device_answer(found, device)
            if device is not None and not os_version
            else answer_text(found)
        )
        title = f"{found.product.name}: compatibility"
        ctx.say(
            message(f"{text}\n{found.article_url}", custom=article(title, found.article_id, text))
        )
        return Completion(Outcome.SELF_SERVICE_ARTICLE, found.article_id)

    async def app(
        self,
        catalogue: CatalogueBackend,
        platform_id: str,
        os_version: str | None,
        device: Device | None = None,
    ) -> Message:
        platform = await catalogue.find_platform(platform_id)
        name = platform.name if platform else platform_id
        requirements: list[tuple[str, str]] = []
        for product in await catalogue.products():
            for entry in await catalogue.compatibilities(product.product_id):
                if (
                    entry.platform.platform_id == platform_id
                    and entry.matrix_status is not CompatibilityStatus.UNSUPPORTED
                    and entry.min_version
                ):
                    requirements.append((product.name, entry.min_version))
        if not requirements:
            text = (
                f"The Brightwave app isn't available for {name}. It runs on Android and iOS phones."
            )
        else:
            minimum = min((version for _, version in requirements), key=version_key)
            higher = [(p, v) for p, v in requirements if version_key(v) > version_key(minimum)]
            text = app_answer(name, minimum, os_version, higher, device)
        title = "Which phones and tablets work with Brightwave"
        return message(
            f"{text}\n{article_url(APP_ARTICLE)}", custom=article(title, APP_ARTICLE, text)
        )
