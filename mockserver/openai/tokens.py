"""A small deterministic tokenizer: a word vocabulary with byte fallback.

Why not a real BPE: the mock must load in milliseconds and stay deterministic across worker
processes. Text is cut into pieces (a word with at most one leading space, or a run of
whitespace); a piece in the vocabulary is one token, anything else falls back to one token per
UTF-8 byte (ids 0..255). So `decode(encode(text)) == text` for every string, which is what
vLLM's /tokenize + /detokenize round trip promises. Streams send one *piece* per chunk.
"""

from __future__ import annotations

import re
from functools import lru_cache

# The words of generated replies (X-Mock-Reply-Tokens): each is exactly one token, with or
# without a leading space, so an n-token reply is n pieces and n stream chunks.
_WORD_TEXT = (
    "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november "
    "oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu the a of "
    "and to in is it that was for on are as with be at this have from or one had by word but "
    "not what all were we when your can said there use an each which she do how their if will "
    "up other about out many then them these so some her would make like him into time has "
    "look two more write go see number no way could people my than first water been call who "
    "oil its now find long down day did get come made may part"
)
WORDS = tuple(_WORD_TEXT.split())
_SPECIAL = ["Echo:", "Thinking", "about:", "<think>", "</think>", "\n", "\n\n", " "]

_VOCAB: list[str] = []
for _word in [*_SPECIAL, *WORDS]:
    for _form in (_word, " " + _word):
        if _form not in _VOCAB:
            _VOCAB.append(_form)
_IDS = {piece: 256 + i for i, piece in enumerate(_VOCAB)}
VOCAB_SIZE = 256 + len(_VOCAB)

_PIECE = re.compile(r" ?\S+|\s+")


def pieces(text: str) -> list[str]:
    """Cut text into pieces that join back to `text` exactly."""
    return _PIECE.findall(text)


def encode(text: str) -> list[int]:
    ids: list[int] = []
    for piece in _PIECE.findall(text):
        token = _IDS.get(piece)
        if token is None:
            ids.extend(piece.encode("utf-8"))
        else:
            ids.append(token)
    return ids


def decode(ids: list[int]) -> str:
    """Inverse of `encode`; raises ValueError naming an id outside the vocabulary."""
    out = bytearray()
    for token in ids:
        if 0 <= token < 256:
            out.append(token)
        elif 256 <= token < VOCAB_SIZE:
            out += _VOCAB[token - 256].encode("utf-8")
        else:
            raise ValueError(f"token id {token} is outside the vocabulary (0..{VOCAB_SIZE - 1})")
    return out.decode("utf-8", errors="replace")


@lru_cache(maxsize=4096)
def count(text: str) -> int:
    """Token count of `text` (cached: usage math asks for the same strings repeatedly)."""
    return len(encode(text))


def truncate(text: str, max_tokens: int) -> str:
    """The longest prefix of `text` of at most `max_tokens` tokens (whole characters only)."""
    ids = encode(text)
    if len(ids) <= max_tokens:
        return text
    return bytes_safe_decode(ids[:max_tokens])


def bytes_safe_decode(ids: list[int]) -> str:
    out = bytearray()
    for token in ids:
        out += bytes([token]) if token < 256 else _VOCAB[token - 256].encode("utf-8")
    return out.decode("utf-8", errors="ignore")


def generated_words(n: int, offset: int = 0) -> str:
    """An n-token reply made of vocabulary words (deterministic for a given offset)."""
    size = len(WORDS)
    return " ".join(WORDS[(offset + i) % size] for i in range(n))
