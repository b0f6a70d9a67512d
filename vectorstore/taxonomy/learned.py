"""The learned tagger's inference: numpy only, from the arrays `training/train_tagger.py` writes to `model/`.

A sentence's features are the ones scikit-learn's TfidfVectorizer computed at training time, recomputed here
without scikit-learn (so that ingest and answers never import it): word 1-2-grams (tokens of two or more word
characters, lower-cased) and character 3-5-grams within each word padded by a space, each block sublinear-tf times
idf and L2-normalised, then the pattern tagger's confidence per category. One logistic score per category, one
Platt scaling shared by all (fitted on dev), a threshold per category (chosen on dev). A test checks that these
features reproduce the dev figures recorded in `model/manifest.json`.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from vectorstore.records import Tag

MODEL_DIR = Path(__file__).resolve().parent / "model"
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token_pattern
_SPACE = re.compile(r"\s\s+")


@dataclass(frozen=True)
class Features:
    """The feature space: vocabularies in column order and their idf weights."""

    categories: tuple[str, ...]
    word_vocab: tuple[str, ...]
    word_idf: np.ndarray
    char_vocab: tuple[str, ...]
    char_idf: np.ndarray
    pattern_scale: float


@dataclass(frozen=True)
class Model:
    features: Features
    word_index: dict[str, int]
    char_index: dict[str, int]
    weights: np.ndarray          # (word + char + categories) x categories
    bias: np.ndarray
    polarity_weights: np.ndarray
    polarity_pattern_weights: np.ndarray   # on the patterns' signed confidences
    polarity_bias: float
    calibration: tuple[float, float]
    thresholds: np.ndarray
    both: np.ndarray             # the category weights with the polarity weights as a last column
    idf: np.ndarray              # word then char idf, by column


def available() -> bool:
    return (MODEL_DIR / "tagger.npz").exists()


@lru_cache(maxsize=1)
def load_model() -> Model:
    with np.load(MODEL_DIR / "tagger.npz") as z:
        features = Features(
            categories=tuple(str(c) for c in z["categories"]),
            word_vocab=tuple(str(w) for w in z["word_vocab"]), word_idf=z["word_idf"].astype(np.float64),
            char_vocab=tuple(str(c) for c in z["char_vocab"]), char_idf=z["char_idf"].astype(np.float64),
            pattern_scale=float(z["pattern_scale"]),
        )
        return Model(
            features=features,
            word_index={w: i for i, w in enumerate(features.word_vocab)},
            char_index={c: i for i, c in enumerate(features.char_vocab)},
            weights=z["weights"].astype(np.float64), bias=z["bias"].astype(np.float64),
            polarity_weights=z["polarity_weights"].astype(np.float64),
            polarity_pattern_weights=z["polarity_pattern_weights"].astype(np.float64),
            polarity_bias=float(z["polarity_bias"]),
            calibration=(float(z["calibration"][0]), float(z["calibration"][1])),
            thresholds=z["thresholds"].astype(np.float64),
            idf=np.concatenate([features.word_idf, features.char_idf]),
            both=np.hstack([z["weights"], z["polarity_weights"][:, None]]).astype(np.float64),
        )


def word_grams(text: str) -> list[str]:
    tokens = _TOKEN.findall(text.lower())
    return tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)]


def char_grams(text: str) -> list[str]:
    """scikit-learn's `char_wb` analyzer for n = 3..5: n-grams inside each space-padded word."""
    out: list[str] = []
    for word in _SPACE.sub(" ", text.lower()).split():
        padded = f" {word} "
        for n in range(3, 6):
            offset = 0
            out.append(padded[offset:offset + n])
            while offset + n < len(padded):
                offset += 1
                out.append(padded[offset:offset + n])
            if offset == 0:  # a word shorter than n gives one gram, once
                break
    return out


@lru_cache(maxsize=100_000)
def _char_ids(word: str) -> tuple[int, ...]:
    """The columns of one word's character n-grams: words repeat across sentences, so each is split once."""
    index = load_model().char_index
    return tuple(index[g] for g in char_grams(word) if g in index)


def _char_counts(text: str) -> Counter[int]:
    counts: Counter[int] = Counter()
    for word in text.lower().split():
        counts.update(_char_ids(word))
    return counts


def pattern_features(votes: list[list[Tag]], categories: list[str]) -> tuple[np.ndarray, list[dict[str, int]]]:
    """From the pattern tagger's tags of each text: its confidence per category (0 where it does not tag) and its
    polarity (+1/-1) by category."""
    column = {c: j for j, c in enumerate(categories)}
    confidences = np.zeros((len(votes), len(categories)))
    polarities: list[dict[str, int]] = []
    for i, tags in enumerate(votes):
        signs: dict[str, int] = {}
        for tag in tags:
            j = column[tag.category]
            if tag.confidence > confidences[i, j]:
                confidences[i, j] = tag.confidence
                signs[tag.category] = 1 if tag.polarity == "positive" else -1
        polarities.append(signs)
    return confidences, polarities


def tag_sentences(texts: list[str], votes: list[list[Tag]]) -> list[list[Tag]]:
    """Tags for each sentence, given the pattern tagger's tags of each (its votes): every category whose
    calibrated confidence reaches its threshold."""
    model = load_model()
    confidence, positive = confidences(texts, votes)
    from vectorstore.taxonomy.categories import load_taxonomy

    levels = {c.id: c.level for c in load_taxonomy()}
    out: list[list[Tag]] = []
    for i in range(len(texts)):
        sign = "positive" if positive[i] else "negative"
        tags = [Tag(category=c, level=levels.get(c, "latent"), polarity=sign,
                    confidence=round(float(min(confidence[i, j], 0.99)), 3))
                for j, c in enumerate(model.features.categories) if confidence[i, j] >= model.thresholds[j]]
        out.append(sorted(tags, key=lambda t: (-t.confidence, t.category)))
    return out


def confidences(texts: list[str], votes: list[list[Tag]]) -> tuple[np.ndarray, np.ndarray]:
    """Each sentence's calibrated confidence in each category (columns in `load_model().features.categories`
    order), thresholds aside, and whether its polarity is positive."""
    model = load_model()
    cats = list(model.features.categories)
    patterns, signs = pattern_features(votes, cats)
    signed = np.array([[s.get(c, 0) for c in cats] for s in signs]).reshape(len(texts), len(cats)) * patterns
    n_words, n_chars = len(model.features.word_vocab), len(model.features.char_vocab)
    a, b = model.calibration
    # Every sentence's n-gram counts in flat arrays (one segment per sentence and block), weighted and normalised
    # as scikit-learn does, in numpy: a Python loop per n-gram would cost more than the patterns themselves.
    cols: list[int] = []
    counts: list[int] = []
    segments: list[int] = []   # where each (sentence, block) segment starts in `cols`
    owner: list[int] = []      # the sentence of each segment
    for i, text in enumerate(texts):
        for block, offset in ((Counter(model.word_index[g] for g in word_grams(text) if g in model.word_index), 0),
                              (_char_counts(text), n_words)):
            if block:
                segments.append(len(cols))
                owner.append(i)
                cols += [offset + j for j in block]
                counts += block.values()
    sums = np.zeros((len(texts), len(cats) + 1))
    if cols:
        col = np.asarray(cols, dtype=np.int64)
        value = (1.0 + np.log(np.asarray(counts, dtype=np.float64))) * model.idf[col]
        norms = np.sqrt(np.add.reduceat(value * value, segments))
        value /= np.repeat(norms, np.diff(np.append(segments, len(cols))))
        per_segment = np.add.reduceat(value[:, None] * model.both[col], segments, axis=0)
        np.add.at(sums, np.asarray(owner), per_segment)
    sums += (patterns * model.features.pattern_scale) @ model.both[n_words + n_chars:]
    confidence = 1.0 / (1.0 + np.exp(-(a * (sums[:, :-1] + model.bias) + b)))
    polarity = sums[:, -1] + (signed * model.features.pattern_scale) @ model.polarity_pattern_weights
    return confidence, polarity + model.polarity_bias > 0
