"""A small deterministic tokenizer: a word vocabulary with byte fallback.

Why not a real BPE: the mock must load in milliseconds and stay deterministic across worker
processes. Text is cut into pieces (a word with at most one leading space, or a run of
whitespace); a piece in the vocabulary is one token, anything else falls back to one token per
UTF-8 byte (ids 0..255). So `decode(encode(text)) == text` for every string, which is what
vLLM's /tokenize + /detokenize round trip promises. Streams send one *piece* per chunk.
"""

from __future__ import annotations

import re
import threading
import zlib
from collections.abc import Iterator
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
_SLICE = 1 << 16  # texts are tokenized in slices of about this many characters


def _slices(text: str) -> Iterator[str]:
    """`text` cut into slices that tokenize exactly as the whole does.

    A cut is made only where a non-space character is followed by whitespace: the piece
    pattern cannot match across such a point, and it needs no look-behind. So slices keep
    `findall`'s speed (it runs in C) without a list of every piece of a long text in memory.
    """
    start, size = 0, len(text)
    while size - start > _SLICE:
        found = _BOUNDARY.search(text, start + _SLICE - 1)
        cut = found.start() + 1 if found else size
        yield text[start:cut]
        start = cut
    if start < size:
        yield text[start:]


_BOUNDARY = re.compile(r"\S\s")


def iter_pieces(text: str) -> Iterator[str]:
    """The pieces of `text` one by one (what a stream sends, one per chunk)."""
    for part in _slices(text):
        yield from _PIECE.findall(part)


def pieces(text: str) -> list[str]:
    """Cut text into pieces that join back to `text` exactly."""
    return list(iter_pieces(text))


def encode(text: str) -> list[int]:
    ids: list[int] = []
    for piece in iter_pieces(text):
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


def _piece_tokens(piece: str) -> int:
    return 1 if piece in _IDS else len(piece.encode("utf-8"))


def _count(text: str) -> int:
    ids = _IDS
    total = 0
    for part in _slices(text):
        for piece in _PIECE.findall(part):
            total += 1 if piece in ids else len(piece.encode("utf-8"))
    return total


_count_short = lru_cache(maxsize=4096)(_count)
_SHORT = 4096  # texts up to this long go through the lru cache (<= 16 MiB of keys in all)
_LONG_CHARS = 32 * 1024 * 1024  # the long-text cache holds at most this many characters
_long: dict[str, int] = {}
_long_lock = threading.Lock()


def count(text: str) -> int:
    """Token count of `text`, cached: usage math asks for the same strings repeatedly.

    The cache is bounded in characters, not entries: a few long replies, not thousands of
    10 MiB prompts, is what it may keep alive.
    """
    if len(text) <= _SHORT:
        return _count_short(text)
    with _long_lock:
        hit = _long.get(text)
    if hit is None:
        hit = _count(text)
        remember(text, hit)
    return hit


def remember(text: str, tokens: int) -> None:
    """Note a long text's count, when the caller knows it (generated words: one per token)."""
    if len(text) <= _SHORT or len(text) > _LONG_CHARS // 4:
        return
    with _long_lock:
        held = sum(map(len, _long))
        while _long and held + len(text) > _LONG_CHARS:
            oldest = next(iter(_long))
            held -= len(oldest)
            del _long[oldest]
        _long[text] = tokens


def truncate(text: str, max_tokens: int) -> str:
    """The longest prefix of `text` of at most `max_tokens` tokens (whole characters only).

    Reads only as far as the cut: truncating a long reply to a few tokens costs a few tokens.
    """
    if 4 * len(text) <= max_tokens:
        return text  # a token is at least one UTF-8 byte, a character at most four
    used = 0
    offset = 0
    for piece in iter_pieces(text):
        cost = _piece_tokens(piece)
        if used + cost > max_tokens:
            # a piece spelled in bytes may be cut inside; never inside a character
            head = piece.encode("utf-8")[: max_tokens - used] if cost > 1 else b""
            return text[:offset] + head.decode("utf-8", errors="ignore")
        used += cost
        offset += len(piece)
    return text


def bytes_safe_decode(ids: list[int]) -> str:
    out = bytearray()
    for token in ids:
        out += bytes([token]) if token < 256 else _VOCAB[token - 256].encode("utf-8")
    return out.decode("utf-8", errors="ignore")


def generated_words(n: int, offset: int = 0) -> str:
    """An n-token reply made of vocabulary words (deterministic for a given offset)."""
    size = len(WORDS)
    start = offset % size
    # whole laps of the vocabulary, then the rest: one join instead of n modulo lookups
    cycle = WORDS[start:] + WORDS[:start]
    laps, rest = divmod(n, size)
    text = " ".join(cycle * laps + cycle[:rest])
    remember(text, n)
    return text


# Log probabilities: made up, deterministic, and self-consistent. A piece at a position gets a
# chosen logprob in (-2, 0] from a CRC of (position, piece); its alternatives are vocabulary
# pieces after a hash-picked start (the chosen one skipped), each at least 0.25 below the one
# before. So the chosen piece heads its own top list, which is sorted descending.
MAX_TOP_LOGPROBS = 20


def _piece_logprobs(piece: str, position: int, top: int) -> tuple[float, list[tuple[str, float]]]:
    h = zlib.crc32(f"{position}:{piece}".encode())
    chosen = -round((h & 0xFFFF) / 32768, 4)
    alternatives: list[tuple[str, float]] = [(piece, chosen)] if top else []
    size = len(_VOCAB)
    at, value, salt = h % size, chosen, h >> 16
    while len(alternatives) < top:
        candidate = _VOCAB[at]
        at = (at + 1) % size
        if candidate == piece:
            continue
        salt = (salt * 1103515245 + 12345) & 0x7FFFFFFF
        value = round(value - 0.25 - (salt % 1000) / 1000, 4)
        alternatives.append((candidate, value))
    return chosen, alternatives


def chat_logprob(piece: str, position: int, top: int) -> dict[str, object]:
    """One `ChatCompletionTokenLogprob` for `piece` at `position` with `top` alternatives."""
    chosen, alternatives = _piece_logprobs(piece, position, top)
    return {
        "token": piece,
        "logprob": chosen,
        "bytes": list(piece.encode("utf-8")),
        "top_logprobs": [
            {"token": t, "logprob": v, "bytes": list(t.encode("utf-8"))} for t, v in alternatives
        ],
    }


def completion_logprobs(
    text_pieces: list[str], start: int, offset: int, top: int
) -> dict[str, list[object]]:
    """The legacy `/v1/completions` logprobs of pieces at positions `start`... whose text
    begins at character `offset`: tokens, token_logprobs, top_logprobs, text_offset."""
    token_logprobs: list[object] = []
    tops: list[object] = []
    offsets: list[object] = []
    for k, piece in enumerate(text_pieces):
        chosen, alternatives = _piece_logprobs(piece, start + k, top)
        token_logprobs.append(chosen)
        tops.append(dict(alternatives))
        offsets.append(offset)
        offset += len(piece)
    return {
        "tokens": list(text_pieces),
        "token_logprobs": token_logprobs,
        "top_logprobs": tops,
        "text_offset": offsets,
    }
