"""A hand-written paraphrase set for concept clustering, keyed by the synthetic generator's true uses.

Each key is a use, audience or place from `pipelines.synth.knowledge` (the generator's true concepts);
its values are ways an LLM might phrase the same concept, written by us for this benchmark (not taken
from any model's output). Several keys are near each other on purpose (`camping` / `campsite`,
`making espresso` / `making cappuccino` / `brewing filter coffee` / `grinding coffee`, `living room` /
`bedroom`, `photographers` / `coffee lovers`): a clustering that
merges them is wrong, and the set measures it.
"""

from __future__ import annotations

PARAPHRASES: dict[tuple[str, str], list[str]] = {
    ("function", "camping"): ["camping", "going camping", "camping trips", "for camping"],
    ("location", "campsite"): ["campsite", "camp site", "a campground", "at the campsite"],
    ("function", "making espresso"): [
        "making espresso",
        "to make espresso",
        "espresso making",
        "preparing espresso",
    ],
    ("function", "brewing filter coffee"): [
        "brewing filter coffee",
        "making filter coffee",
        "filter coffee brewing",
        "brewing drip coffee",
    ],
    ("audience", "photographers"): [
        "photographers",
        "photographer",
        "professional photographers",
        "photography enthusiasts",
    ],
    ("function", "taking photos"): ["taking photos", "taking pictures", "photography", "shooting photos"],
    ("audience", "cyclists"): ["cyclists", "bike riders", "cyclist", "people who cycle"],
    ("audience", "runners"): ["runners", "joggers", "runner", "people who run"],
    ("audience", "parents"): ["parents", "new parents", "mothers and fathers", "parent"],
    ("audience", "gardeners"): ["gardeners", "gardener", "home gardeners", "people who garden"],
    ("function", "watering plants"): [
        "watering plants",
        "to water plants",
        "plant watering",
        "watering the garden",
    ],
    ("audience", "home bakers"): ["home bakers", "bakers", "people who bake at home", "amateur bakers"],
    ("location", "kitchen"): ["kitchen", "the kitchen", "in the kitchen", "kitchens"],
    ("location", "garden"): ["garden", "the garden", "in the garden", "backyard garden"],
    ("location", "birthday party"): [
        "birthday party",
        "birthday parties",
        "a birthday celebration",
        "kids' birthday party",
    ],
    # near neighbours of the concepts above, of the same kind: merging any of them is an error
    ("function", "making cappuccino"): [
        "making cappuccino",
        "to make cappuccino",
        "cappuccino making",
        "frothing milk for cappuccino",
    ],
    ("function", "grinding coffee"): [
        "grinding coffee",
        "grinding coffee beans",
        "to grind coffee",
        "coffee grinding",
    ],
    ("location", "living room"): ["living room", "the living room", "in the lounge", "sitting room"],
    ("location", "bedroom"): ["bedroom", "the bedroom", "in the bedroom", "bed room"],
    ("audience", "coffee lovers"): ["coffee lovers", "coffee fans", "coffee enthusiasts", "coffee addicts"],
    ("function", "changing a baby"): [
        "changing a baby",
        "changing diapers",
        "nappy changing",
        "changing a baby's diaper",
    ],
}
