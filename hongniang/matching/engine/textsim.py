"""Text similarity: jieba tokens of the self-description plus hobby and personality tags.

Each member keeps at most ``text_tokens`` token ids (tags first, then description words by
tf·idf), padded with 0.  Similarity is the cosine of binary token vectors weighted by idf:
sum of idf² over shared tokens / (|A|·|B|), with each member's norm fixed when their row
was written, so sim(A, B) == sim(B, A).

jieba is imported and its dictionary loaded on first use only (it ships the dictionary,
so this works offline); its logging is silenced.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable
from typing import Any, Final

import numpy as np
from stopwordsiso import stopwords

from .profile import Profile

# Words that say nothing about a person: the Chinese and English function words of the
# stopwords-iso lists (maintained data, package ``stopwordsiso``), plus the few phrases every
# self-description of a dating profile uses.
_PROFILE_BOILERPLATE: Final = frozenset(
    """
    一个 一位 一名 一些 一起 一直 一定 一般 一样 一点 不是 不会 不要 也是 也许 了解 人生
    今年 以后 可能 合适 国家 平时 很多 找个 找到 找一 我的 有点 比较 现在 男士 女士 男生
    女生 目前 能够 觉得 认为 非常 喜欢 爱好 寻找 另一半 希望 希望能 真诚 希望对方 方面
    关系 感觉 事情 属于 生活
    """.split()  # noqa: SIM905 (a word list reads better as text)
)
_STOPWORDS: Final = frozenset(stopwords(["zh", "en"])) | _PROFILE_BOILERPLATE
_CLAUSE_SPLIT: Final = re.compile(r"[\s，。！？；：、,.!?;:()（）【】\[\]“”\"'~～…]+")
_CACHE_LIMIT: Final = 200_000

_jieba: Any = None
_jieba_lock = threading.Lock()


def _cut(clause: str) -> list[str]:
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba = jieba
    return _jieba.lcut(clause, HMM=False)


def warm() -> None:
    """Load jieba's dictionary now (about a second), e.g. at process start off the request
    path, rather than inside the first request that changes a member."""
    _cut("")


def _keep(token: str) -> bool:
    """A word worth comparing: no stop word, no single character, no number (2024年,
    一二三), nothing made of punctuation or symbols."""
    if len(token) < 2 or token in _STOPWORDS or any(ch.isdigit() for ch in token):
        return False
    return not all(ch.isnumeric() or unicodedata.category(ch)[0] in "PSZ" for ch in token)


class TextIndex:
    """Vocabulary, document frequencies and the similarity computation."""

    def __init__(self, tokens_per_member: int) -> None:
        self.width = tokens_per_member
        self.vocab: dict[str, int] = {"": 0}
        self.words: list[str] = [""]
        self.df = np.zeros(1024, dtype=np.int32)
        self.docs = 0
        self._table = np.zeros(1024, dtype=np.float32)
        # Descriptions repeat phrases; tokenising per clause with a bounded cache makes
        # bulk loads of similar texts fast without changing the result.
        self._clauses: dict[str, tuple[str, ...]] = {}

    # --- tokens --------------------------------------------------------------------------------

    def tokens_of(self, profile: Profile) -> tuple[list[str], Counter[str]]:
        """(tags, description token counts) of a profile."""
        tags = sorted(profile.hobbies | profile.personality)
        words: Counter[str] = Counter()
        for clause in _CLAUSE_SPLIT.split(profile.about.lower()):
            if not clause:
                continue
            cut = self._clauses.get(clause)
            if cut is None:
                cut = tuple(t for t in _cut(clause) if _keep(t))
                if len(self._clauses) >= _CACHE_LIMIT:
                    self._clauses.clear()
                self._clauses[clause] = cut
            words.update(cut)
        return tags, words

    def ids_of(self, tokens: Iterable[str]) -> list[int]:
        out = []
        for token in tokens:
            tid = self.vocab.get(token)
            if tid is None:
                tid = len(self.words)
                self.vocab[token] = tid
                self.words.append(token)
            out.append(tid)
        if len(self.words) > len(self.df):
            size = len(self.df)
            while size < len(self.words):
                size *= 2
            df = np.zeros(size, dtype=np.int32)
            df[: len(self.df)] = self.df
            self.df = df
            self._table = np.zeros(size, dtype=np.float32)
        return out

    def select(self, tags: list[str], words: Counter[str]) -> list[int]:
        """Token ids kept for one member: tags first, then the most frequent words.

        The choice does not depend on corpus statistics, so a member's tokens do not
        change when others are added (idf only weighs them at scoring time)."""
        chosen = dict.fromkeys(self.ids_of(tags[: self.width]))
        room = self.width - len(chosen)
        if room > 0 and words:
            ranked = sorted(words.items(), key=lambda item: -item[1])  # stable: first seen
            for word, _ in ranked:
                tid = self.ids_of((word,))[0]
                if tid not in chosen:
                    chosen[tid] = None
                    room -= 1
                    if room == 0:
                        break
        return list(chosen)

    def idf(self, ids: np.ndarray) -> np.ndarray:
        return (np.log((self.docs + 1.0) / (self.df[ids] + 1.0)) + 1.0).astype(np.float32)

    def row(self, ids: list[int]) -> tuple[np.ndarray, float]:
        """Padded id row and its idf norm."""
        row = np.zeros(self.width, dtype=np.int32)
        row[: len(ids)] = ids
        if not ids:
            return row, 0.0
        w = self.idf(np.asarray(ids, dtype=np.int64))
        return row, float(np.sqrt(np.dot(w, w)))

    def add_doc(self, row: np.ndarray) -> None:
        ids = row[row > 0]
        if len(ids):
            self.df[ids] += 1
            self.docs += 1

    def remove_doc(self, row: np.ndarray) -> None:
        ids = row[row > 0]
        if len(ids):
            self.df[ids] -= 1
            self.docs -= 1

    def norms(self, rows: np.ndarray) -> np.ndarray:
        """idf norms of many rows at once (bulk build)."""
        table = self.idf(np.arange(len(self.df)))
        table[0] = 0.0  # padding
        w = table[rows]
        return np.sqrt((w * w).sum(axis=1)).astype(np.float32)

    # --- similarity ----------------------------------------------------------------------------

    def similarity(
        self, mine: np.ndarray, my_norm: float, theirs: np.ndarray, their_norms: np.ndarray
    ) -> np.ndarray:
        """Cosine similarity (0..1) of one token row against many."""
        ids = mine[mine > 0].astype(np.int64)
        if len(ids) == 0 or my_norm <= 0.0 or len(theirs) == 0:
            return np.zeros(len(theirs), dtype=np.float32)
        w = self.idf(ids)
        table = self._table
        table[ids] = w * w
        try:
            # take + a matrix-vector product: ~2.5x faster than fancy indexing and sum(axis=1)
            gathered = table.take(theirs.ravel()).reshape(theirs.shape)
            shared = gathered @ np.ones(theirs.shape[1], dtype=np.float32)
        finally:
            table[ids] = 0.0
        denom = np.maximum(their_norms * np.float32(my_norm), np.float32(1e-6))
        return np.minimum(shared / denom, 1.0).astype(np.float32)

    def shared_words(self, mine: np.ndarray, theirs: np.ndarray, limit: int = 5) -> list[str]:
        """Shared tokens, most informative (rarest) first."""
        common = set(mine.tolist()) & set(theirs.tolist())
        common.discard(0)
        ranked = sorted(common, key=lambda t: (int(self.df[t]), t))
        return [self.words[t] for t in ranked[:limit]]

    @property
    def nbytes(self) -> int:
        return int(self.df.nbytes + self._table.nbytes)
