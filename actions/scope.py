"""What the bot is for: a question about another company's product.

"Where do I see the sleep score on my Fitbit?" reads like our sleep-tracking
article, and the help center answers it confidently: a confident wrong
answer. The catalogue lists the brands we neither sell nor support
(``other_brands`` in ``data/demo/catalogue.yml``); a message that names one of
them and none of our products is declined with a sentence that says why,
before the help center is asked (issue 23, class 7).
"""

from __future__ import annotations

import logging
import re

from actions.backends import CatalogueBackend, whole_words

logger = logging.getLogger(__name__)

OURS = re.compile(r"\bbright\s*wave\b", re.IGNORECASE)


def not_ours_reply(brand: str) -> str:
    return (
        f"I can only help with Brightwave's own products and services, so I can't answer "
        f"questions about {brand}. For that, please check with its maker. Is there anything "
        "about your Brightwave devices, orders or account I can help with?"
    )


async def other_company_product(catalogue: CatalogueBackend, text: str) -> str | None:
    """The other company's brand ``text`` is about, or None (it names none, or
    it also names one of ours: "does the Pulse 2 sync with Garmin Connect?")."""
    try:
        brand = await catalogue.other_brand_in(text)
        if brand is None or OURS.search(text):
            return None
        for product in await catalogue.products():
            names = (product.product_id, product.name, *product.aliases)
            if any(whole_words(name).search(text) for name in names if name.strip()):
                return None
    except Exception:  # boundary: without the catalogue, the help center still answers
        logger.exception("catalogue not read for the scope check")
        return None
    return brand
