"""Input checks: a failing dbt Python model should name the frame and columns at fault."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd


def require_columns(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise ``ValueError`` naming every column of ``columns`` that ``frame`` lacks."""
    present = set(frame.columns)
    missing = [column for column in dict.fromkeys(columns) if column not in present]
    if missing:
        raise ValueError(f"{what} is missing required columns: {missing}")


def require_rows(frame: pd.DataFrame, what: str) -> None:
    """Raise ``ValueError`` if ``frame`` has no rows."""
    if len(frame) == 0:
        raise ValueError(f"{what} is empty: at least one row is required")


#: Ids are coded in blocks of this many bits (1M ids): see :class:`IdBlocks`.
ID_BLOCK_BITS = 20
#: :func:`id_blocks` counts the ids of every block from the smallest id's to the largest's:
#: at most this many (a 32 MB count).
MAX_ID_BLOCKS = 1 << 22


@dataclass(frozen=True)
class IdBlocks:
    """Order-preserving dense codes of ids that occupy a few blocks of ``2**ID_BLOCK_BITS``
    ids spread over a wide range (shops merged with id offsets, as the xl scale's tiles, or
    ids with a high prefix): each occupied block, in id order, gets the next ``2**bits`` codes.
    Codes sort as the ids do, so a key packed from them sorts and groups rows as the ids
    would, and the ids come back exactly (:meth:`decode`)."""

    first_block: int  # the block of the smallest id
    rank: np.ndarray  # per block from first_block: its rank among the occupied ones, or -1
    starts: np.ndarray  # per occupied block, in rank order: its first id

    @property
    def span(self) -> int:
        """How many codes there are (every id of every occupied block has one)."""
        return len(self.starts) << ID_BLOCK_BITS

    def encode(self, ids: np.ndarray) -> np.ndarray:
        """The codes of ``ids``, which must be among the ids the blocks were made from (or in
        their blocks). Two int64 arrays in all, filled in place."""
        offset = ids >> ID_BLOCK_BITS
        offset -= self.first_block
        codes = self.rank.take(offset)
        codes <<= ID_BLOCK_BITS
        np.bitwise_and(ids, (1 << ID_BLOCK_BITS) - 1, out=offset)
        codes |= offset
        return codes

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """The ids of ``codes``."""
        ids = self.starts.take(codes >> ID_BLOCK_BITS)
        ids += codes & ((1 << ID_BLOCK_BITS) - 1)
        return ids


def id_blocks(ids: np.ndarray) -> IdBlocks | None:
    """:class:`IdBlocks` of the int64 ``ids`` (at least one), in one counting pass; None when
    they span more than ``MAX_ID_BLOCKS`` blocks."""
    blocks = ids >> ID_BLOCK_BITS
    first, last = int(blocks.min()), int(blocks.max())
    if last - first + 1 > MAX_ID_BLOCKS:
        return None
    blocks -= first
    occupied = np.bincount(blocks, minlength=last - first + 1) > 0
    rank = np.cumsum(occupied, dtype=np.int64) - 1
    rank[~occupied] = -1
    starts = (np.flatnonzero(occupied).astype(np.int64) + first) << ID_BLOCK_BITS
    return IdBlocks(first_block=first, rank=rank, starts=starts)


@dataclass(frozen=True)
class PackedRows:
    """Rows of int64 columns packed into one int64 each, the columns' offsets from their
    minimum side by side in bit fields (the first column highest): the keys order as the rows
    do, so one ``np.sort`` sorts rows by every column. Shifts and masks unpack them (a 64-bit
    division per value would cost several times more). A column whose range is too wide for
    the fields to fit holds its :class:`IdBlocks` codes instead (``blocks``)."""

    key: np.ndarray
    lows: list[int]
    bits: list[int]  # per column
    blocks: list[IdBlocks | None]  # per column: the codes it holds, or None (its values)

    def shift(self, index: int) -> int:
        """Bits below column ``index``'s field."""
        return sum(self.bits[index + 1 :])

    def column(self, index: int, key: np.ndarray) -> np.ndarray:
        """Column ``index`` of the rows packed as ``key`` (e.g. some sorted keys)."""
        field = key >> self.shift(index)  # in place from here: no more temporary arrays
        field &= (1 << self.bits[index]) - 1
        field += self.lows[index]
        blocks = self.blocks[index]
        return field if blocks is None else blocks.decode(field)

    def prefix(self, count: int, key: np.ndarray) -> np.ndarray:
        """What identifies the first ``count`` columns of the rows packed as ``key``."""
        return key >> self.shift(count - 1)


def pack_columns(columns: list[np.ndarray]) -> PackedRows | None:
    """The int64 ``columns`` (equal lengths, at least one value) as :class:`PackedRows`; None
    when their ranges need more than 62 bits together, even with the widest columns coded by
    :func:`id_blocks`.

    One key sorts several times faster than ``np.lexsort`` or a multi-key pandas groupby of the
    same columns (millions of order lines)."""
    lows, bits, blocks = [], [], [None] * len(columns)
    for values in columns:
        low, high = int(values.min()), int(values.max())
        lows.append(low)
        bits.append((high - low).bit_length())
    for index in sorted(range(len(columns)), key=lambda i: -bits[i]):
        if sum(bits) <= 62:
            break
        coded = id_blocks(columns[index])
        if coded is not None and (coded.span - 1).bit_length() < bits[index]:
            blocks[index], lows[index] = coded, 0
            bits[index] = (coded.span - 1).bit_length()
    if sum(bits) > 62:
        return None
    # Two arrays in all, filled in place: fresh arrays of millions of rows cost page faults.
    key = np.zeros(len(columns[0]), dtype=np.int64)
    offset = np.empty_like(key)
    for values, low, width, coded in zip(columns, lows, bits, blocks, strict=True):
        key <<= width
        if coded is None:
            np.subtract(values, low, out=offset)
            key |= offset
        else:
            key |= coded.encode(values)
    return PackedRows(key=key, lows=lows, bits=bits, blocks=blocks)


def integer_key(frame: pd.DataFrame, columns: list[str]) -> np.ndarray | None:
    """One int64 per row that is equal exactly when the rows' ``columns`` are, when they are
    non-null integers whose ranges fit one int64 together; otherwise None."""
    arrays = []
    for column in columns:
        values = frame[column]
        if not pd.api.types.is_integer_dtype(values.dtype) or values.isna().any():
            return None
        arrays.append(values.to_numpy(dtype=np.int64))
    packed = pack_columns(arrays)
    return None if packed is None else packed.key


def require_unique(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    """Raise ``ValueError`` if two rows of ``frame`` share the values of ``columns``."""
    if len(frame) == 0:
        return
    # Integer keys (ids) as one int64, checked by sorting: several times faster than pandas'
    # (multi-column) duplicated on millions of order lines. A stable sort (timsort) because
    # lines come nearly in (order, product) order: 0.26 s for 8.5M keys, where hashing them
    # takes 1.5 s; the rows are only located (by pandas) when there is a duplicate to name.
    key = integer_key(frame, columns)
    if key is not None:
        ordered = np.sort(key, kind="stable")
        if not (ordered[1:] == ordered[:-1]).any():
            return
    duplicated = (
        frame.duplicated(subset=columns, keep=False)
        if key is None
        else pd.Series(key, index=frame.index).duplicated(keep=False)
    )
    if duplicated.any():
        examples = frame.loc[duplicated, columns].head(3).to_dict("records")
        raise ValueError(f"{what} has duplicate {columns}, e.g. {examples}")
