"""Lexical analysis, one home for it: how passages and queries become BM25 terms (lower case, English stop words
out, Snowball stems), and the word lists of how questions are asked (not what they ask about), which the search
leaves out of its lexical query and the answer composer leaves out of its word overlap.

The analysis is bm25s's `tokenize(texts, stopwords="en", stemmer=Stemmer("english"))`, which the lexical index used
before it became our own (`vectorstore.bm25`), done here without importing bm25s (and scipy with it: a second of a
cold start): scikit-learn's token pattern, bm25s's 33 English stop words (tests/test_bm25.py checks both give the
same terms), each word stemmed once per process.
"""

from __future__ import annotations

import functools
import re
from typing import Any

__all__ = ["COMMON_TOPIC_WORDS", "LATENT_QUESTION_WORDS", "QUESTION_WORDS", "common_topic_stems",
           "latent_question_stems", "lexical_tokens", "question_stems"]

# How questions are asked, not what they ask about: BM25 gives "say" in "what did Ofsted say about caseloads" a
# high weight because reports rarely use it, and passages quoting what someone said outrank the caseload ones;
# "what part did management absence play" ranked "seen … for part of a single visit" first.
# (bm25s's English stop list has 33 words and none of these.) Removed from queries only.
QUESTION_WORDS = ("what which who whom whose when where why how did do does doing say said says tell told find found "
                  "finds about describe described according mention mentioned me please part play played")
# How latent-condition questions are asked (query.LATENT_QUESTION's words and their companions): "What latent
# conditions preceded Child R's death?" asks for conditions, not for sentences that repeat its words.
LATENT_QUESTION_WORDS = ("latent conditions condition organisational organizational factors factor systemic system "
                         "underlying contributed contribute contributing contribution preceded precede before prior "
                         "led lead leading death died dying harm harmed injury injuries killed case why wrong went "
                         "root cause causes problems pressures themes concerns failings shortcomings lessons "
                         "recurring part play played role affect affected")
# Words too common in children's-services documents to show that a sentence is about what a figure question asks.
COMMON_TOPIC_WORDS = ("child children young people person social work worker workers council local authority service "
                      "services family families care staff practitioners team teams year years focused visit visits "
                      "inspection inspections inspectors ofsted report reports review reviews letter")


# bm25s.stopwords.STOPWORDS_EN (bm25s 0.3), removed before stemming
STOPWORDS_EN = frozenset(("a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
                          "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
                          "they", "this", "to", "was", "will", "with"))
_WORDS = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's CountVectorizer pattern, as bm25s.tokenize


@functools.cache
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


_STEMS: dict[str, str] = {}  # word -> stem; a process meets tens of thousands of words, each stemmed once


def lexical_tokens(texts: list[str]) -> list[list[str]]:
    """The same analysis for passages and queries: lower case, English stop words out, Snowball stems."""
    words = [[w for w in _WORDS.findall(text.lower()) if w not in STOPWORDS_EN] for text in texts]
    new = list({w for ws in words for w in ws if w not in _STEMS})
    if new:
        _STEMS.update(zip(new, _stemmer().stemWords(new), strict=True))
    return [[_STEMS[w] for w in ws] for ws in words]


@functools.cache
def question_stems() -> frozenset[str]:
    """QUESTION_WORDS as stems (stemmed once per process)."""
    return frozenset(lexical_tokens([QUESTION_WORDS])[0])


@functools.cache
def latent_question_stems() -> frozenset[str]:
    """LATENT_QUESTION_WORDS and QUESTION_WORDS as stems."""
    return frozenset(lexical_tokens([LATENT_QUESTION_WORDS])[0]) | question_stems()


@functools.cache
def common_topic_stems() -> frozenset[str]:
    """COMMON_TOPIC_WORDS and QUESTION_WORDS as stems."""
    return frozenset(lexical_tokens([COMMON_TOPIC_WORDS])[0]) | question_stems()
