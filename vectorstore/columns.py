"""Records as columns: a dataclass's fields, read from its type hints, stored one numpy array (or one string blob)
per field, and the same field typing for Chroma's flat metadata.

Generic on purpose: a field added to `Passage` or `DocumentInfo` is stored, cached and read back without a column
list to update, and a record written before the field existed reads back with the field's default. At 570,000
passages a column is one array, not 570,000 Python objects: ints and floats are numpy arrays, strings one UTF-8
blob with offsets (memory-mapped when loaded), anything else (a tuple of tags) JSON in a string column.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import mmap
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

_ZERO = {"int": 0, "float": 0.0, "bool": False, "str": ""}


@dataclass(frozen=True)
class FieldKind:
    """How one dataclass field is stored: its kind, whether it may be None, its default, and (for a JSON field
    holding a tuple of dataclasses) the element class."""

    name: str
    kind: str  # int | float | bool | str | json
    optional: bool
    default: Any  # dataclasses.MISSING when the field has none
    element: type | None = None

    def missing_value(self) -> Any:
        """What a record written before this field existed reads back as."""
        if self.default is not dataclasses.MISSING:
            return self.default
        if self.optional:
            return None
        return () if self.kind == "json" else _ZERO[self.kind]


@functools.cache
def field_kinds(cls: type) -> tuple[FieldKind, ...]:
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        args = typing.get_args(hint)
        optional = (typing.get_origin(hint) in (typing.Union, types.UnionType)) and type(None) in args
        base = next((a for a in args if a is not type(None)), hint) if optional else hint
        kind = {int: "int", float: "float", bool: "bool", str: "str"}.get(base, "json")
        element = None
        if kind == "json" and typing.get_origin(base) is tuple:
            first = typing.get_args(base)[0] if typing.get_args(base) else None
            element = first if dataclasses.is_dataclass(first) else None
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else dataclasses.MISSING)
        out.append(FieldKind(f.name, kind, optional, default, element))  # type: ignore[arg-type]
    return tuple(out)


def _to_plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return value.to_json() if hasattr(value, "to_json") else dataclasses.asdict(value)
    if isinstance(value, tuple | list):
        return [_to_plain(v) for v in value]
    return value


def encode_json(value: Any) -> str:
    return json.dumps(_to_plain(value), ensure_ascii=False)


def decode_json(k: FieldKind, text: str | None) -> Any:
    if text is None:
        return k.missing_value()
    value = json.loads(text)
    if k.element is not None:
        return tuple(k.element(**v) for v in value)
    return tuple(value) if isinstance(value, list) else value


# -- Chroma metadata (flat scalars; None left out, since Chroma rejects it) ----------------------------------------
def to_metadata(record: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in field_kinds(type(record)):  # type: ignore[arg-type]
        value = getattr(record, k.name)
        if k.name in skip or value is None:
            continue
        out[k.name] = encode_json(value) if k.kind == "json" else value
    return out


def from_metadata(cls: type, meta: dict[str, Any], **given: Any) -> Any:
    """A record from Chroma metadata; a field the metadata lacks (an older version wrote it) gets its default."""
    values = dict(given)
    for k in field_kinds(cls):
        if k.name in values:
            continue
        raw = meta.get(k.name)
        if raw is None:
            values[k.name] = k.missing_value()
        elif k.kind == "json":
            values[k.name] = decode_json(k, raw)
        elif k.kind in ("int", "float"):
            values[k.name] = int(raw) if k.kind == "int" else float(raw)
        else:
            values[k.name] = raw
    return cls(**values)


# -- columns on disk ------------------------------------------------------------------------------------------------
class StringColumn:
    """Strings as one UTF-8 blob and n+1 offsets; None where `nulls` says so. Loaded, the blob is memory-mapped."""

    def __init__(self, blob: Any, offsets: np.ndarray, nulls: np.ndarray | None) -> None:
        self.blob = blob  # bytes, or an mmap (slicing either gives bytes)
        self.offsets = offsets
        self.nulls = nulls

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> str | None:
        if self.nulls is not None and self.nulls[i]:
            return None
        return bytes(self.blob[int(self.offsets[i]):int(self.offsets[i + 1])]).decode("utf-8")

    def equals_any(self, values: tuple[str, ...]) -> np.ndarray:
        """Whether each string is one of `values`; only strings of a matching byte length are read."""
        import numpy as np

        offsets = np.asarray(self.offsets)
        lengths = np.diff(offsets)
        out = np.zeros(len(self), dtype=bool)
        blob = np.frombuffer(self.blob, dtype=np.uint8) if len(self.blob) else np.zeros(0, np.uint8)
        for value in values:
            wanted = np.frombuffer(value.encode("utf-8"), dtype=np.uint8)
            rows = np.flatnonzero(lengths == len(wanted))
            if not len(rows):
                continue
            if not len(wanted):
                out[rows] = True
                continue
            # the candidates' bytes side by side, compared at once: a loop over 570,000 roles of the same length
            # ("finding" and "framing") took a second at each new view of the index
            for chunk in range(0, len(rows), 65536):
                part = rows[chunk:chunk + 65536]
                got = blob[offsets[part][:, None] + np.arange(len(wanted))]
                out[part] = (got == wanted).all(axis=1)
        return out if self.nulls is None else out & ~self.nulls

    @classmethod
    def of(cls, values: list[str | None]) -> StringColumn:
        import numpy as np

        encoded = [(v or "").encode("utf-8") for v in values]
        offsets = np.zeros(len(values) + 1, dtype=np.int64)
        np.cumsum([len(b) for b in encoded], out=offsets[1:])
        nulls = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
        return cls(b"".join(encoded), offsets, nulls if nulls.any() else None)

    def take(self, rows: np.ndarray) -> StringColumn:
        """The strings of `rows` (ascending), copied run by run: merged segments keep long runs of rows."""
        import numpy as np

        rows = np.asarray(rows, dtype=np.int64)
        lengths = self.offsets[rows + 1] - self.offsets[rows]
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        parts = []
        if len(rows):
            breaks = np.flatnonzero(np.diff(rows) != 1) + 1
            for run in np.split(rows, breaks):
                parts.append(bytes(self.blob[int(self.offsets[run[0]]):int(self.offsets[run[-1] + 1])]))
        nulls = self.nulls[rows] if self.nulls is not None else None
        return StringColumn(b"".join(parts), offsets, nulls if nulls is not None and nulls.any() else None)

    @staticmethod
    def concat(columns: list[StringColumn]) -> StringColumn:
        import numpy as np

        blobs = [bytes(c.blob[:int(c.offsets[-1])]) for c in columns]
        starts = np.cumsum([0] + [len(b) for b in blobs])
        offsets = np.concatenate([np.zeros(1, np.int64)] + [c.offsets[1:] + s for c, s in zip(columns, starts,
                                                                                           strict=False)])
        nulls = None
        if any(c.nulls is not None for c in columns):
            nulls = np.concatenate([c.nulls if c.nulls is not None else np.zeros(len(c), bool) for c in columns])
        return StringColumn(b"".join(blobs), offsets, nulls)

    def save(self, folder: Path, name: str) -> None:
        import numpy as np

        (folder / f"{name}.blob").write_bytes(bytes(self.blob[:int(self.offsets[-1])]))
        np.save(folder / f"{name}.offsets.npy", self.offsets)
        if self.nulls is not None:
            np.save(folder / f"{name}.nulls.npy", self.nulls)

    @classmethod
    def load(cls, folder: Path, name: str) -> StringColumn:
        import numpy as np

        path = folder / f"{name}.blob"
        blob: Any = b""
        if path.stat().st_size:
            with open(path, "rb") as fh:  # the mapping outlives the file object (and the file, once deleted)
                blob = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        nulls_path = folder / f"{name}.nulls.npy"
        nulls = np.load(nulls_path) if nulls_path.exists() else None
        return cls(blob, np.load(folder / f"{name}.offsets.npy", mmap_mode="r"), nulls)


class Table:
    """The fields of `cls` for n records, column by column (`exclude`: fields kept elsewhere)."""

    def __init__(self, cls: type, columns: dict[str, Any], n: int) -> None:
        self.cls = cls
        self.columns = columns
        self.n = n
        self.kinds = {k.name: k for k in field_kinds(cls)}

    @classmethod
    def of(cls, record_cls: type, records: list[Any], exclude: tuple[str, ...] = ()) -> Table:
        import numpy as np

        columns: dict[str, Any] = {}
        for k in field_kinds(record_cls):
            if k.name in exclude:
                continue
            values = [getattr(r, k.name) for r in records]
            if k.kind in ("str", "json") or k.optional:
                text = [encode_json(v) if k.kind == "json" else (None if v is None else str(v)) for v in values] \
                    if k.kind in ("str", "json") else [None if v is None else json.dumps(v) for v in values]
                columns[k.name] = StringColumn.of(text)
            else:
                columns[k.name] = np.array(values, dtype={"int": np.int64, "float": np.float64,
                                                          "bool": bool}[k.kind])
        return cls(record_cls, columns, len(records))

    def value(self, name: str, i: int) -> Any:
        k, column = self.kinds[name], self.columns.get(name)
        if column is None:  # a field added after this table was written
            return k.missing_value()
        if isinstance(column, StringColumn):
            raw = column[i]
            if k.kind == "str":
                return raw
            if k.kind == "json":
                return decode_json(k, raw)
            return None if raw is None else json.loads(raw)  # an optional number or flag
        return column[i].item()

    def record(self, i: int, **given: Any) -> Any:
        return self.cls(**{name: given[name] if name in given else self.value(name, i) for name in self.kinds})

    def equals(self, name: str, values: tuple[str, ...]) -> np.ndarray:
        """Whether each record's string field `name` is one of `values`, as a bool array."""
        import numpy as np

        column = self.columns.get(name)
        if column is None:  # a field added after this table was written: its default everywhere
            return np.full(self.n, self.kinds[name].missing_value() in values, dtype=bool)
        if not isinstance(column, StringColumn) or self.kinds[name].kind != "str":
            raise TypeError(f"{name} is not a string field")
        return column.equals_any(values)

    def numbers(self, name: str) -> np.ndarray:
        """A numeric column as an array (an optional one: None as -1)."""
        import numpy as np

        column = self.columns.get(name)
        if column is None:
            return np.full(self.n, self.kinds[name].missing_value() or 0, dtype=np.int64)
        if isinstance(column, StringColumn):
            return np.array([-1 if (v := self.value(name, i)) is None else v for i in range(self.n)])
        return np.asarray(column)

    def take(self, rows: np.ndarray) -> Table:
        import numpy as np

        return Table(self.cls, {name: c.take(rows) if isinstance(c, StringColumn) else np.asarray(c)[rows]
                                for name, c in self.columns.items()}, len(rows))

    @staticmethod
    def concat(tables: list[Table]) -> Table:
        import numpy as np

        first = tables[0]
        names = [n for n in first.kinds if all(n in t.columns for t in tables)]
        columns = {n: StringColumn.concat([t.columns[n] for t in tables]) if isinstance(first.columns[n], StringColumn)
                   else np.concatenate([np.asarray(t.columns[n]) for t in tables]) for n in names}
        return Table(first.cls, columns, sum(t.n for t in tables))

    def save(self, folder: Path, prefix: str) -> dict[str, str]:
        import numpy as np

        kinds = {}
        for name, column in self.columns.items():
            if isinstance(column, StringColumn):
                column.save(folder, f"{prefix}.{name}")
                kinds[name] = "strings"
            else:
                np.save(folder / f"{prefix}.{name}.npy", np.asarray(column))
                kinds[name] = "array"
        return kinds

    @classmethod
    def load(cls, record_cls: type, folder: Path, prefix: str, kinds: dict[str, str], n: int) -> Table:
        import numpy as np

        known = {k.name for k in field_kinds(record_cls)}
        columns: dict[str, Any] = {}
        for name, kind in kinds.items():
            if name not in known:  # a field a newer version wrote and this one does not have
                continue
            columns[name] = StringColumn.load(folder, f"{prefix}.{name}") if kind == "strings" else \
                np.load(folder / f"{prefix}.{name}.npy", mmap_mode="r")
        return cls(record_cls, columns, n)
