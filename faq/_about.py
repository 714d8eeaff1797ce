"""Whether a message is about moving an Azure DevOps organization's identity at all: a small learned model.

Real questions near the domain share the topics' words ("my SSH key fails", "AADSTS50020 in our app",
"MSDN benefits") without being about the move; the ranker cannot tell them apart, a discriminative model
over words, word pairs and error codes can. Logistic regression on L2-normalised binary features, fitted by
`python -m faq.evaluate` on the tuning material (in scope vs out of scope) and stored in `about.json`, so
answering only sums a few dozen weights.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import random
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

from faq import _reading, _text

_EPOCHS = 10
_LEARNING_RATE = 0.5
_L2 = 1e-4
_SEED = 20261128
_MIN_EXAMPLES = 1
# Words of letters only: numbers, GUIDs and timestamps in pasted logs say nothing (error codes count apart).
_RAW_WORD = re.compile(r"\b[a-z]+\b")


def features(reading: _reading.Reading) -> list[str]:
    """What the asker wrote, and the lines they quote (`Reading.told`): words and word pairs folded and
    stemmed like the ranker's, pairs of the raw words (the small words the ranker drops tell the story: "after
    we switched", "since the move"), the words of the first two sentences that ask, and error codes."""
    words = [word for word in _text.content_words(_text.prepare(reading.told)) if word.isalpha()]
    found = {f"w:{word}" for word in words}
    found.update(f"b:{first}_{second}" for first, second in itertools.pairwise(words))
    raw = _RAW_WORD.findall(reading.told[: _text.MAX_SCORED_CHARS].lower())
    found.update(f"r:{first}_{second}" for first, second in itertools.pairwise(raw))
    for sentence in reading.asked[:2]:
        found.update(f"q:{word}" for word in _text.content_words(_text.prepare(sentence)))
    found.update(f"c:{code}" for code in reading.codes)
    if reading.switching:
        found.add("f:switching")
    if reading.about_the_move:
        found.add("f:move")
    if reading.tells_the_move:
        found.add("f:tells")
    return sorted(found)


@dataclass(frozen=True)
class Example:
    features: Sequence[str]
    about: bool  # the message is about the move (an in-scope question)
    weight: float = 1.0


@dataclass(frozen=True)
class AboutModel:
    weights: dict[str, float]
    bias: float
    in_migration: float = 0.0
    """The log-odds a message asked inside a migration counts as at least: the median that real in-scope
    questions got from models not fitted on them. Public threads are mostly about something else; inside a
    migration's channel or to-do list the asker is in the move, whatever words they use."""

    def logit(self, found: Sequence[str]) -> float:
        """Log-odds that the message is about the move (the bias alone for a message of unknown words).

        Features the model never kept count for nothing, not even in the normalisation: as in its fit.
        """
        known = [self.weights[feature] for feature in found if feature in self.weights]
        return self.bias + sum(known) / math.sqrt(len(known)) if known else self.bias

    def read(self, reading: _reading.Reading) -> float:
        """`logit` of the message's features; a model without weights (the evaluation ranks with one while it
        fits its own) has nothing to read in them."""
        return self.logit(features(reading)) if self.weights else self.bias

    def to_json(self) -> dict[str, object]:
        kept = {feature: round(weight, 4) for feature, weight in sorted(self.weights.items())}
        return {"bias": round(self.bias, 6), "in_migration": round(self.in_migration, 6), "weights": kept}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> AboutModel:
        weights = data.get("weights", {})
        bias, in_migration = data.get("bias", 0.0), data.get("in_migration", 0.0)
        return cls(
            {str(k): float(v) for k, v in weights.items()} if isinstance(weights, dict) else {},
            float(bias) if isinstance(bias, (int, float)) else 0.0,
            float(in_migration) if isinstance(in_migration, (int, float)) else 0.0,
        )


NO_MODEL = AboutModel({}, 0.0)


def bundled_model() -> AboutModel:
    stored = resources.files("faq").joinpath("about.json")
    if not stored.is_file():
        return NO_MODEL
    return AboutModel.from_json(json.loads(stored.read_text(encoding="utf-8")))


def fit(examples: Sequence[Example]) -> AboutModel:
    """Weighted logistic regression by AdaGrad, in a fixed order (the same examples give the same model).

    Only features seen in at least `_MIN_EXAMPLES` examples get a weight: a GUID or a timestamp pasted once
    says nothing about the next message.
    """
    seen = Counter(feature for example in examples for feature in example.features)
    kept = sorted(feature for feature, count in seen.items() if count >= _MIN_EXAMPLES)
    # Features as positions in lists: the same updates in the same order as by name, a few times faster.
    position_of = {feature: position for position, feature in enumerate(kept)}
    found_at = [[position_of[f] for f in e.features if f in position_of] for e in examples]
    # Features found in exactly the same examples start at 0 and get the same gradients, so they keep one
    # weight throughout: it is updated once, at the group's first position (a third of the updates saved, as
    # most words of a long question appear in it alone), and read wherever a member is found.
    found_in: dict[int, list[int]] = defaultdict(list)
    for index, found in enumerate(found_at):
        for position in found:
            found_in[position].append(index)
    first_of_group: dict[tuple[int, ...], int] = {}
    shared = [first_of_group.setdefault(tuple(found_in[position]), position) for position in range(len(kept))]
    read_at = [[shared[position] for position in found] for found in found_at]
    updated_at = [[position for position in found if shared[position] == position] for found in found_at]
    weights = [0.0] * len(kept)
    squares = [1e-8] * len(kept)
    bias, bias_square = 0.0, 1e-8
    order = list(range(len(examples)))
    shuffler = random.Random(_SEED)
    total_weight = sum(example.weight for example in examples) or 1.0
    sqrt, rate, l2 = math.sqrt, _LEARNING_RATE, _L2
    for _ in range(_EPOCHS):
        shuffler.shuffle(order)
        for index in order:
            example, found = examples[index], found_at[index]
            scale = 1.0 / sqrt(len(found)) if found else 0.0
            z = bias + scale * sum(map(weights.__getitem__, read_at[index]))
            p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
            error = (p - (1.0 if example.about else 0.0)) * example.weight * len(examples) / total_weight
            bias_square += error * error
            bias -= rate * error / sqrt(bias_square)
            step = error * scale
            for position in updated_at[index]:
                weight = weights[position]
                gradient = step + l2 * weight
                square = squares[position] + gradient * gradient
                squares[position] = square
                weights[position] = weight - rate * gradient / sqrt(square)
    return AboutModel({feature: weights[shared[position]] for position, feature in enumerate(kept)}, bias)


def fold_of(key: str, folds: int) -> int:
    """A fixed fold for a group of examples (a thread, or a written question), from its SHA-256."""
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest(), 16) % folds


def out_of_fold(
    examples: Sequence[Example], groups: Sequence[str], folds: int, always: Sequence[Example] = ()
) -> list[float]:
    """Each example's logit from a model fitted without its fold (`always` in every fit): what an unseen
    message would get."""
    logits = [0.0] * len(examples)
    for fold in range(folds):
        inside = [i for i, group in enumerate(groups) if fold_of(group, folds) == fold]
        outside = [example for i, example in enumerate(examples) if fold_of(groups[i], folds) != fold]
        model = fit([*outside, *always])
        for i in inside:
            logits[i] = model.logit(examples[i].features)
    return logits
