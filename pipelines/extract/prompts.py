"""The versioned prompts: one small question per prompt, few-shot, a JSON schema per answer.

Every prompt is laid out shared-prefix first (system prompt, instructions, few-shot turns) and
the variable part last, so a serving engine's prefix cache (vLLM, llama.cpp) reuses the common
tokens across requests. A prompt's version is its name plus a digest of everything that shapes
the answer (text, examples, schema): editing a prompt changes its version, so the answer cache
can never serve an answer to a different question.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from kg.schema import LlmTask as Task
from pipelines.extract.answers import Answer, CommonsenseAnswer, FactsAnswer, PairAnswer, TypePairAnswer


def canonical_json(value: Any) -> str:
    """One text per value: sorted keys, no spaces, UTF-8 kept (the basis of cache keys)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _describe_item(item: dict[str, Any]) -> str:
    parts = [f"title: {item.get('title') or 'unknown'}"]
    for key in ("category", "brand", "price", "text"):
        if item.get(key) not in (None, ""):
            parts.append(f"{key}: {item[key]}")
    return "; ".join(parts)


def _render_pair(task_input: dict[str, Any]) -> str:
    return f"A = {_describe_item(task_input['a'])}\nB = {_describe_item(task_input['b'])}"


def _render_item(task_input: dict[str, Any]) -> str:
    return f"Item = {_describe_item(task_input['item'])}"


def _describe_type(product_type: dict[str, Any]) -> str:
    examples = "; ".join(product_type.get("examples", []))
    return f"product type: {product_type['type']}" + (f" (e.g. {examples})" if examples else "")


def _render_types(task_input: dict[str, Any]) -> str:
    return f"A = {_describe_type(task_input['a'])}\nB = {_describe_type(task_input['b'])}"


_RENDER = {Task.PAIR: _render_pair, Task.TYPE_PAIR: _render_types}


@dataclass(frozen=True)
class PromptSpec:
    """One question: its instructions, examples, answer schema and version."""

    task: Task
    major: int
    system: str
    examples: tuple[tuple[dict[str, Any], dict[str, Any]], ...]
    answer_model: type[Answer]
    version: str = field(init=False)

    def __post_init__(self) -> None:
        shape = canonical_json({"system": self.system, "examples": self.examples,
                                "schema": self.schema})
        digest = hashlib.sha256(shape.encode()).hexdigest()[:8]
        object.__setattr__(self, "version", f"{self.task.value}.v{self.major}+{digest}")

    @property
    def schema(self) -> dict[str, Any]:
        """The JSON schema the answer must follow (sent for constrained decoding)."""
        return self.answer_model.model_json_schema()

    def render(self, task_input: dict[str, Any]) -> str:
        """The variable part of the prompt for one input."""
        return _RENDER.get(self.task, _render_item)(task_input)

    def messages(self, task_input: dict[str, Any]) -> list[dict[str, str]]:
        """Chat messages: system, few-shot turns (the shared prefix), then this input last."""
        turns = [{"role": "system", "content": self.system}]
        for example_input, example_answer in self.examples:
            turns.append({"role": "user", "content": self.render(example_input)})
            turns.append({"role": "assistant", "content": canonical_json(example_answer)})
        turns.append({"role": "user", "content": self.render(task_input)})
        return turns


def _item(title: str, category: str, **extra: Any) -> dict[str, Any]:
    return {"title": title, "category": category, **extra}


PAIR_PROMPT = PromptSpec(
    task=Task.PAIR,
    major=1,
    system=(
        "You label how two shop products A and B relate. Answer with one JSON object only.\n"
        "relation: 'complement' if they are bought to be used together (a camera and its memory "
        "card); 'substitute' if one can replace the other (two brands of the same kind of "
        "product); 'variant' if they are the same product in another colour, size or pack; "
        "'unrelated' otherwise.\n"
        "direction: for a complement, 'a_to_b' if buying A creates the need for B, 'b_to_a' for "
        "the reverse, 'both' if mutual; 'none' for every other relation.\n"
        "confidence: a number from 0 to 1. rationale: one short sentence."
    ),
    examples=(
        ({"a": _item("Espresso Machine", "Kitchen > Coffee", brand="Brevo"),
          "b": _item("Espresso Coffee Beans 1kg", "Kitchen > Coffee", brand="Lavista")},
         {"relation": "complement", "direction": "a_to_b", "confidence": 0.9,
          "rationale": "An espresso machine needs coffee beans to make espresso."}),
        ({"a": _item("Trail Running Shoes", "Sports > Running", brand="Sprint"),
          "b": _item("Road Running Shoes", "Sports > Running", brand="Pace")},
         {"relation": "substitute", "direction": "none", "confidence": 0.8,
          "rationale": "Both are running shoes; a buyer picks one of them."}),
        ({"a": _item("Ceramic Mug, Red", "Kitchen > Tableware", brand="Hale"),
          "b": _item("Ceramic Mug, Blue", "Kitchen > Tableware", brand="Hale")},
         {"relation": "variant", "direction": "none", "confidence": 0.95,
          "rationale": "The same mug in two colours."}),
        ({"a": _item("Golf Umbrella", "Outdoors > Rain"),
          "b": _item("Printer Ink Cartridge", "Office > Printing")},
         {"relation": "unrelated", "direction": "none", "confidence": 0.9,
          "rationale": "An umbrella and printer ink serve unrelated needs."}),
    ),
    answer_model=PairAnswer,
)

COMMONSENSE_PROMPT = PromptSpec(
    task=Task.COMMONSENSE,
    major=1,
    system=(
        "You state commonsense knowledge about one shop product. Answer with one JSON object "
        "only, each value a short phrase of at most five words, or an empty string when it "
        "does not apply.\n"
        "used_for: the activity or purpose; used_by: who uses it; used_in: where or on what "
        "occasion; capable_of: what it can do; is_a: the kind of thing it is; used_with: "
        "another kind of product used with it; confidence: a number from 0 to 1."
    ),
    examples=(
        ({"item": _item("Trekking Poles, Pair", "Outdoors > Hiking", brand="Alto")},
         {"used_for": "hiking", "used_by": "hikers", "used_in": "mountain trails",
          "capable_of": "reducing knee strain", "is_a": "walking aid", "used_with": "hiking boots",
          "confidence": 0.9}),
        ({"item": _item("Baby Bottle Warmer", "Baby > Feeding")},
         {"used_for": "warming milk", "used_by": "parents", "used_in": "nursery",
          "capable_of": "heating bottles evenly", "is_a": "appliance", "used_with": "baby bottles",
          "confidence": 0.85}),
    ),
    answer_model=CommonsenseAnswer,
)

FACTS_PROMPT = PromptSpec(
    task=Task.FACTS,
    major=1,
    system=(
        "You write factual knowledge about one shop product for a recommender system: what it "
        "is, what it is made of or how it works, and who buys it. Two or three short sentences, "
        "no marketing. Answer with one JSON object only."
    ),
    examples=(
        ({"item": _item("Cast Iron Skillet 26cm", "Kitchen > Cookware")},
         {"facts": "A heavy frying pan made of cast iron that holds heat evenly. It needs "
                   "seasoning with oil and is not dishwasher safe. Bought by home cooks."}),
    ),
    answer_model=FactsAnswer,
)

def _type(name: str, *examples: str) -> dict[str, Any]:
    return {"type": name, "examples": list(examples)}


TYPE_PAIR_PROMPT = PromptSpec(
    task=Task.TYPE_PAIR,
    major=1,
    system=(
        "You label how two product types A and B relate, for a shop's recommendations. Answer with "
        "one JSON object only.\n"
        "relation: 'complement' if products of the two types are bought to be used together (a tent "
        "and tent stakes); 'substitute' if one type can replace the other (a dome tent and a tunnel "
        "tent); 'unrelated' otherwise.\n"
        "confidence: a number from 0 to 1. rationale: one short sentence."
    ),
    examples=(
        ({"a": _type("espresso machine", "Brevo Classic Espresso Machine"),
          "b": _type("coffee beans", "Lavista Espresso Coffee Beans 1kg")},
         {"relation": "complement", "confidence": 0.9,
          "rationale": "An espresso machine needs coffee beans to make espresso."}),
        ({"a": _type("trail running shoes"), "b": _type("road running shoes")},
         {"relation": "substitute", "confidence": 0.8,
          "rationale": "Both are running shoes; a buyer picks one of them."}),
        ({"a": _type("golf umbrella"), "b": _type("printer ink cartridge")},
         {"relation": "unrelated", "confidence": 0.9,
          "rationale": "An umbrella and printer ink serve unrelated needs."}),
    ),
    answer_model=TypePairAnswer,
)

PROMPTS: dict[Task, PromptSpec] = {p.task: p for p in (PAIR_PROMPT, COMMONSENSE_PROMPT, FACTS_PROMPT,
                                                        TYPE_PAIR_PROMPT)}


def cache_key(model: str, prompt_version: str, input_json: str) -> str:
    """Content address of an answer: (model, prompt version, input) and nothing else."""
    return hashlib.sha256(f"{model}\x1f{prompt_version}\x1f{input_json}".encode()).hexdigest()
