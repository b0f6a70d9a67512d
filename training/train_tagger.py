"""Train the learned tagger from our labelled sentences: `python -m training.train_tagger` (part of `make train`).

The model: for each taxonomy category, a logistic regression over the sentence's word 1-2-grams and character
3-5-grams (TF-IDF, as scikit-learn computes them) and the pattern tagger's confidence for every category (the
hand-written patterns become one vote among the features, not the decision). It is fitted on the `train` part;
`dev` chooses each category's threshold and calibrates the confidences (one Platt scaling over all categories,
so that a tag at 0.9 is right about nine times in ten on dev); `test` is scored once, printed, and recorded in the
model's manifest. Sentences `tagger.is_framing_sentence` reads as method or definition get no tags, as at
inference. Polarity: a second logistic regression over the same features (positive against negative
mentions), chosen against the patterns' polarity on dev.

Inference needs only numpy (vectorstore/taxonomy/learned.py reads the arrays written here); scikit-learn is needed
to train (`pip install -e .[train]`). Training takes well under a minute on two cores.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from training.splits import split_of  # noqa: E402
from vectorstore.taxonomy.learned import MODEL_DIR, Features, pattern_features  # noqa: E402
from vectorstore.taxonomy.tagger import is_framing_sentence, pattern_tags  # noqa: E402

DATA = ROOT / "training" / "data"
# Every labelled-sentence file (several labellers, each blind to our code) and the older hand-labelled set.
SOURCES = sorted(DATA.glob("sentences-[A-Z]*.jsonl"), key=lambda p: p.name)
OLD = ROOT / "tests" / "labelled" / "sentences.jsonl"
C = 4.0                      # chosen on dev among 1, 2, 4, 8 (exp: 4 best for word+char+patterns)
CHAR_FEATURES = 60_000       # the most frequent character n-grams of train; more added nothing on dev
PATTERN_SCALE = 3.0          # the pattern votes weigh like a strong n-gram


def load_rows() -> list[dict[str, Any]]:
    """Labelled sentences, each once (the agreement file re-labels sentences of set C and is not training data)."""
    rows, seen = [], set()
    for path in [*SOURCES, OLD]:
        if "agreement" in path.name:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            if row["id"] in seen:
                continue
            seen.add(row["id"])
            row["part"] = split_of(row["source"])
            rows.append(row)
    return rows


def macro_f1(y: np.ndarray, pred: np.ndarray) -> float:
    """Mean F1 over the categories present in `y` (as the contract's tagger score counts them)."""
    from sklearn.metrics import f1_score

    return float(np.mean([f1_score(y[:, j], pred[:, j], zero_division=0) for j in range(y.shape[1]) if y[:, j].any()]))


def main() -> None:
    from scipy.sparse import csr_matrix, hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score

    from vectorstore.taxonomy.categories import load_taxonomy

    rows = load_rows()
    cats = [c.id for c in load_taxonomy()]
    texts = [r["text"] for r in rows]
    y = np.array([[any(lab["category"] == c for lab in r["labels"]) for c in cats] for r in rows], dtype=int)
    part = np.array([r["part"] for r in rows])
    tr, dv, te = part == "train", part == "dev", part == "test"
    print(f"sentences: train {tr.sum()}, dev {dv.sum()}, test {te.sum()}", flush=True)

    train_texts = [t for t, keep in zip(texts, tr, strict=True) if keep]
    words = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True).fit(train_texts)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=3, sublinear_tf=True,
                            max_features=CHAR_FEATURES).fit(train_texts)
    pats, pat_polarity = pattern_features(pattern_tags(texts), cats)
    signed = np.array([[pat_polarity[i].get(c, 0) for c in cats] for i in range(len(texts))]) * pats
    x = hstack([words.transform(texts), chars.transform(texts), csr_matrix(pats * PATTERN_SCALE)]).tocsr()

    weights = np.zeros((x.shape[1], len(cats)), dtype=np.float64)
    bias = np.zeros(len(cats))
    for j, cat in enumerate(cats):
        if not y[tr, j].any():
            bias[j] = -20.0  # never seen in train: never tagged
            continue
        model = LogisticRegression(C=C, max_iter=5000, class_weight="balanced").fit(x[tr], y[tr, j])
        weights[:, j], bias[j] = model.coef_[0], model.intercept_[0]
        print(f"  {cat}: {y[tr, j].sum()} positives in train", flush=True)
    raw = np.asarray(x @ weights) + bias

    # One Platt scaling over every (sentence, category) score of dev: confidences that mean what they say.
    calib = LogisticRegression(C=1e6, max_iter=1000).fit(raw[dv].reshape(-1, 1), y[dv].reshape(-1))
    a, b = float(calib.coef_[0, 0]), float(calib.intercept_[0])
    conf = 1.0 / (1.0 + np.exp(-(a * raw + b)))
    # Framing sentences (method, definitions, a review's scope) get no tags at inference (tagger.py), so none here.
    conf[np.array([is_framing_sentence(t) for t in texts])] = 0.0
    grid = np.round(np.arange(0.10, 0.91, 0.05), 2)
    thresholds = []
    for j in range(len(cats)):
        if not y[dv, j].any():
            thresholds.append(0.5)
            continue
        thresholds.append(float(max(grid, key=lambda t, j=j: f1_score(y[dv, j], conf[dv, j] >= t, zero_division=0))))
    th = np.array(thresholds)
    pred = conf >= th

    # Polarity: positive (1) or negative (0) for each labelled mention, from the sentence's features.
    mentions = [(i, lab["category"], 1 if lab["polarity"] == "positive" else 0)
                for i, r in enumerate(rows) for lab in r["labels"]]
    pol_idx = np.array([m[0] for m in mentions])
    pol_target = np.array([m[2] for m in mentions])
    in_tr = tr[pol_idx]
    # The patterns' own polarity (signed confidence) is a feature here: their burden and cue lists know that "38
    # per cent of posts filled by agency staff" is bad news without a negative word in it.
    x_pol = hstack([x, csr_matrix(signed * PATTERN_SCALE)]).tocsr()
    pol_model = LogisticRegression(C=C, max_iter=5000).fit(x_pol[pol_idx[in_tr]], pol_target[in_tr])
    pol_full, pol_b = pol_model.coef_[0], float(pol_model.intercept_[0])
    pol_w, pol_signed = pol_full[:x.shape[1]], pol_full[x.shape[1]:]

    def polarity_accuracy(mask: np.ndarray) -> tuple[float, float]:
        """The learned polarity's accuracy on every labelled mention in `mask`, and the patterns' on the
        mentions they tagged (the patterns say nothing on the others)."""
        sel = mask[pol_idx]
        learned = (np.asarray(x_pol[pol_idx[sel]] @ pol_full) + pol_b) > 0
        ours = float(np.mean(learned == (pol_target[sel] == 1)))
        theirs = [(pat_polarity[i][cat] > 0) == (want == 1) for i, cat, want in mentions
                  if mask[i] and cat in pat_polarity[i]]
        return ours, float(np.mean(theirs)) if theirs else 0.0

    figures = {
        "dev": {"macro_f1": round(macro_f1(y[dv], pred[dv]), 3),
                "patterns_macro_f1": round(macro_f1(y[dv], pats[dv] > 0), 3),
                "polarity_accuracy": round(polarity_accuracy(dv)[0], 3),
                "patterns_polarity_accuracy_where_tagged": round(polarity_accuracy(dv)[1], 3)},
        "test": {"macro_f1": round(macro_f1(y[te], pred[te]), 3),
                 "patterns_macro_f1": round(macro_f1(y[te], pats[te] > 0), 3),
                 "polarity_accuracy": round(polarity_accuracy(te)[0], 3),
                 "patterns_polarity_accuracy_where_tagged": round(polarity_accuracy(te)[1], 3)},
        "calibration_dev": reliability(conf[dv][pred[dv]], y[dv][pred[dv]]),
        "sentences": {"train": int(tr.sum()), "dev": int(dv.sum()), "test": int(te.sum())},
    }
    features = Features(
        categories=tuple(cats),
        word_vocab=tuple(sorted(words.vocabulary_, key=words.vocabulary_.__getitem__)),
        word_idf=words.idf_.astype(np.float32),
        char_vocab=tuple(sorted(chars.vocabulary_, key=chars.vocabulary_.__getitem__)),
        char_idf=chars.idf_.astype(np.float32),
        pattern_scale=PATTERN_SCALE,
    )
    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        MODEL_DIR / "tagger.npz",
        categories=np.array(cats), word_vocab=np.array(features.word_vocab), word_idf=features.word_idf,
        char_vocab=np.array(features.char_vocab), char_idf=features.char_idf,
        weights=weights.astype(np.float32), bias=bias.astype(np.float32),
        polarity_weights=pol_w.astype(np.float32), polarity_bias=np.float32(pol_b),
        polarity_pattern_weights=pol_signed.astype(np.float32),
        calibration=np.array([a, b], dtype=np.float32), thresholds=th.astype(np.float32),
        pattern_scale=np.float32(PATTERN_SCALE),
    )
    manifest = {
        "model": "logistic regression per category over word 1-2-grams, char 3-5-grams and pattern votes",
        "trained_by": "python -m training.train_tagger",
        "data": {p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:16] for p in [*SOURCES, OLD]
                 if "agreement" not in p.name},
        "C": C, "char_features": CHAR_FEATURES,
        "thresholds": dict(zip(cats, [float(t) for t in th], strict=True)),
        "figures": figures,
    }
    (MODEL_DIR / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=2))


def reliability(conf: np.ndarray, right: np.ndarray) -> list[dict[str, float]]:
    """For the tags emitted on dev: in each confidence band, how many and how often right."""
    out = []
    for lo, hi in ((0.0, 0.5), (0.5, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 1.01)):
        band = (conf >= lo) & (conf < hi)
        if band.any():
            out.append({"band": f"{lo:.1f}-{min(hi, 1.0):.1f}", "tags": int(band.sum()),
                        "mean_confidence": round(float(conf[band].mean()), 3),
                        "right": round(float(right[band].mean()), 3)})
    return out


if __name__ == "__main__":
    main()
