"""Compatibility: "does the Pulse 2 work with my iPhone / Android 12?",
answered from the catalogue's compatibility matrix with the help-center
article (``compatibility-<product id>``). No verification: nothing personal.

"The app" counts as a product: its requirements are the lowest version any
device needs on a platform (``which-phones-work``).
"""

from __future__ import annotations

import re

from actions.backends import (
    CatalogueBackend,
    Compatibility,
    CompatibilityStatus,
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


def phrases(text: str) -> list[str]:
    """Word sequences of ``text``, longest first (``pulse 2 watch`` -> ``pulse 2``)."""
    words = _WORD.findall(text)[:40]
    found: list[str] = []
    for size in range(min(MAX_WORDS, len(words)), 0, -1):
        found.extend(" ".join(words[i : i + size]) for i in range(len(words) - size + 1))
    return found


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


async def platform_of(
    catalogue: CatalogueBackend, entities: tuple[str, ...], text: str
) -> str | None:
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


def app_answer(
    platform_name: str, minimum: str, os_version: str | None, higher: list[tuple[str, str]]
) -> str:
    if os_version and version_key(os_version) < version_key(minimum):
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
    slots = ("compat_product", "compat_platform", "compat_os_version")
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
                version = os_version_of(turn)
                if version:
                    ctx.set("compat_os_version", version)

    async def prefill(self, ctx: FlowContext) -> None:
        await self.read(ctx, product=True, platform=True)

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
        if product == APP:
            ctx.say(await self.app(catalogue, platform, os_version))
            return Completion(Outcome.SELF_SERVICE_ARTICLE, APP_ARTICLE)
        try:
            found = await catalogue.compatibility(product, platform, os_version)
        except NotFound:
            ctx.say(message("Sorry, I don't have compatibility details for that."))
            return Completion(Outcome.RESOLVED_BY_BOT, "unknown")
        text = answer_text(found)
        title = f"{found.product.name}: compatibility"
        ctx.say(
            message(f"{text}\n{found.article_url}", custom=article(title, found.article_id, text))
        )
        return Completion(Outcome.SELF_SERVICE_ARTICLE, found.article_id)

    async def app(
        self, catalogue: CatalogueBackend, platform_id: str, os_version: str | None
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
            text = app_answer(name, minimum, os_version, higher)
        title = "Which phones and tablets work with Brightwave"
        return message(
            f"{text}\n{article_url(APP_ARTICLE)}", custom=article(title, APP_ARTICLE, text)
        )
