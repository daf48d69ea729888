"""The SOQL subset the sync needs, parsed into a syntax tree (``soql_eval`` binds and evaluates it).

``SELECT f1, f2 | COUNT() FROM Object [WHERE cond] [ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], ...]
[LIMIT n] [OFFSET n]`` where ``cond`` combines comparisons (``= != <> < <= > >= LIKE IN NOT IN``,
``IN (SELECT f FROM ...)`` semi-joins) with AND, OR, NOT and parentheses; a field may be a parent
path (``Contact.Email``). As in Salesforce, mixing AND and OR at one level without parentheses is a
MALFORMED_QUERY, names are case-insensitive, string literals use Salesforce's backslash escapes,
and a statement over 100,000 characters is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Iterable

from .errors import SalesforceError

ESCAPES = {"'": "'", '"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f",
           "_": "_", "%": "%"}
TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'(?:[^'\\]|\\.)*')
    | (?P<datetime>\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))?)
    | (?P<number>-?\d+(?:\.\d+)?)
    | (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
    | (?P<op>!=|<>|<=|>=|=|<|>|\(|\)|,)
    | (?P<bad>\S)
    )""",
    re.VERBOSE | re.DOTALL,
)
COMPARISON_OPS = {"=", "!=", "<>", "<", "<=", ">", ">=", "LIKE"}
MAX_SOQL_LENGTH = 100_000


def parse_temporal(text: str) -> date | datetime:
    """A SOQL date or datetime literal (UTC when it has no offset)."""
    if "T" not in text:
        return date.fromisoformat(text)
    stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return stamp


def malformed(message: str) -> SalesforceError:
    return SalesforceError("MALFORMED_QUERY", message)


def _pieces(literal: str) -> Iterable[tuple[str, bool]]:
    """The characters of a quoted SOQL string literal, each with whether it was escaped."""
    body, index = literal[1:-1], 0
    while index < len(body):
        if body[index] != "\\":
            yield body[index], False
            index += 1
            continue
        escaped = body[index + 1 : index + 2]
        if escaped not in ESCAPES:
            raise malformed(f"Invalid string literal '{body}'. Illegal escape sequence '\\{escaped}'")
        yield ESCAPES[escaped], True
        index += 2


def unescape(literal: str) -> str:
    """The value of a quoted SOQL string literal (quotes included), undoing backslash escapes.

    Outside LIKE, ``\\_`` and ``\\%`` stand for the characters themselves.
    """
    return "".join(char for char, _ in _pieces(literal))


def like_pattern(literal: str) -> re.Pattern[str]:
    """A case-insensitive regex for a LIKE literal: ``%`` and ``_`` are wildcards unless escaped."""
    regex = "".join(
        ".*" if (char, escaped) == ("%", False) else "." if (char, escaped) == ("_", False)
        else re.escape(char)
        for char, escaped in _pieces(literal)
    )
    return re.compile(f"^{regex}$", re.IGNORECASE | re.DOTALL)


# ---------------------------------------------------------------- tokens


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    value: Any = None

    @property
    def word(self) -> str:
        return self.text.upper() if self.kind == "name" else self.text


def tokenize(soql: str) -> list[Token]:
    tokens, position = [], 0
    while position < len(soql):
        match = TOKEN.match(soql, position)
        if not match or match.end() == position:
            break
        position = match.end()
        kind = match.lastgroup
        text = match.group(kind)
        if kind == "bad":
            if text == "'":
                raise malformed(f"Unterminated string literal: {soql[match.start(kind):]}")
            raise malformed(f"unexpected token: '{text}'")
        tokens.append(Token(kind, text, unescape(text) if kind == "string" else None))
    return tokens


# ---------------------------------------------------------------- syntax tree


@dataclass(frozen=True)
class Comparison:
    field: str
    op: str  # one of COMPARISON_OPS, "IN" or "NOT IN"
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Junction:
    op: str  # "AND" | "OR"
    parts: tuple[Any, ...]


@dataclass(frozen=True)
class Negation:
    part: Any


@dataclass(frozen=True)
class Ordering:
    field: str
    descending: bool = False
    nulls_last: bool | None = None


@dataclass(frozen=True)
class SubQuery:
    """``(SELECT field FROM Object [WHERE ...])`` on the right of IN / NOT IN (a semi-join)."""

    query: "Query"


@dataclass(frozen=True)
class Query:
    fields: tuple[str, ...]
    sobject: str
    where: Any = None
    order_by: tuple[Ordering, ...] = ()
    limit: int | None = None
    offset: int = 0
    count_only: bool = False


NULL = object()


class Parser:
    """Recursive-descent parser over the token list."""

    def __init__(self, soql: str) -> None:
        self.tokens = tokenize(soql)
        self.index = 0

    def peek(self, offset: int = 0) -> Token | None:
        position = self.index + offset
        return self.tokens[position] if position < len(self.tokens) else None

    def at(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token.word in words

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise malformed("unexpected end of query")
        self.index += 1
        return token

    def expect(self, word: str) -> Token:
        token = self.take()
        if token.word != word:
            raise malformed(f"unexpected token: '{token.text}'")
        return token

    def name(self) -> str:
        token = self.take()
        if token.kind != "name":
            raise malformed(f"unexpected token: '{token.text}'")
        return token.text

    def integer(self) -> int:
        token = self.take()
        if token.kind != "number" or not token.text.isdigit():
            raise malformed(f"unexpected token: '{token.text}'")
        return int(token.text)

    def query(self) -> Query:
        query = self.select()
        if self.peek() is not None:
            raise malformed(f"unexpected token: '{self.peek().text}'")
        return query

    def select(self) -> Query:
        self.expect("SELECT")
        count_only, fields = False, []
        if self.at("COUNT") and self.peek(1) and self.peek(1).text == "(":
            self.take(), self.expect("("), self.expect(")")
            count_only = True
        else:
            fields.append(self.name())
            while self.at(","):
                self.take()
                fields.append(self.name())
        self.expect("FROM")
        sobject = self.name()
        where = self.condition() if self.at("WHERE") and self.take() else None
        order_by = self.order_by() if self.at("ORDER") else ()
        limit = self.integer() if self.at("LIMIT") and self.take() else None
        offset = self.integer() if self.at("OFFSET") and self.take() else 0
        return Query(tuple(fields), sobject, where, order_by, limit, offset, count_only)

    def order_by(self) -> tuple[Ordering, ...]:
        self.expect("ORDER"), self.expect("BY")
        orderings = [self.ordering()]
        while self.at(","):
            self.take()
            orderings.append(self.ordering())
        return tuple(orderings)

    def ordering(self) -> Ordering:
        field = self.name()
        descending = self.at("DESC")
        if self.at("ASC", "DESC"):
            self.take()
        nulls_last = None
        if self.at("NULLS"):
            self.take()
            nulls_last = self.take().word == "LAST"
        return Ordering(field, descending, nulls_last)

    def condition(self) -> Any:
        parts, joiner = [self.unary()], None
        while self.at("AND", "OR"):
            word = self.take().word
            if joiner and word != joiner:
                raise malformed(f"unexpected token: '{word}' (use parentheses to mix AND and OR)")
            joiner = word
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else Junction(joiner, tuple(parts))

    def unary(self) -> Any:
        if self.at("NOT"):
            self.take()
            return Negation(self.unary())
        if self.at("("):
            self.take()
            inner = self.condition()
            self.expect(")")
            return inner
        return self.comparison()

    def comparison(self) -> Comparison:
        field = self.name()
        if self.at("NOT") and self.peek(1) and self.peek(1).word == "IN":
            self.take(), self.take()
            return Comparison(field, "NOT IN", self.value_list())
        if self.at("IN"):
            self.take()
            return Comparison(field, "IN", self.value_list())
        op = self.take().word
        if op not in COMPARISON_OPS:
            raise malformed(f"unexpected token: '{op}'")
        if op == "LIKE":
            token = self.take()
            if token.kind != "string":
                raise malformed(f"unexpected token: '{token.text}'")
            return Comparison(field, op, (like_pattern(token.text),))
        return Comparison(field, "!=" if op == "<>" else op, (self.value(),))

    def value_list(self) -> tuple[Any, ...]:
        self.expect("(")
        if self.at("SELECT"):
            subquery = self.select()
            self.expect(")")
            return (SubQuery(subquery),)
        values = [self.value()]
        while self.at(","):
            self.take()
            values.append(self.value())
        self.expect(")")
        return tuple(values)

    def value(self) -> Any:
        token = self.take()
        if token.kind == "string":
            return token.value
        if token.kind == "number":
            return float(token.text) if "." in token.text else int(token.text)
        if token.kind == "datetime":
            return parse_temporal(token.text)
        if token.word in ("TRUE", "FALSE"):
            return token.word == "TRUE"
        if token.word == "NULL":
            return NULL
        raise malformed(f"unexpected token: '{token.text}'")


def parse(soql: str) -> Query:
    """The syntax tree of ``soql``; MALFORMED_QUERY when it is outside the supported subset."""
    if not soql or not soql.strip():
        raise malformed("The query string is empty")
    if len(soql) > MAX_SOQL_LENGTH:
        raise malformed(f"SOQL statements can not be longer than {MAX_SOQL_LENGTH} characters")
    return Parser(soql).query()
