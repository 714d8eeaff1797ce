"""The subset of OData `$filter` that Microsoft Graph accepts on users by default.

Supported: `eq`, `in`, `startswith(prop,'x')`, `coll/any(x:x eq 'v')`, `and`, `or`, parentheses.
String comparisons ignore case, as Graph's do for these properties.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Predicate = Callable[[dict[str, Any]], bool]

_TOKEN = re.compile(r"\s*(?:('(?:[^']|'')*')|([A-Za-z_][\w.]*)|(\(|\)|,|:|/))")


class FilterError(ValueError):
    """The filter is malformed or uses what this emulator (and Graph by default) does not support."""


def parse_filter(text: str) -> Predicate:
    tokens = _tokenize(text)
    parser = _Parser(tokens)
    predicate = parser.expression()
    if parser.position != len(tokens):
        raise FilterError(f"unexpected {tokens[parser.position][1]!r}")
    return predicate


ADDRESS_PROPERTIES = ("userPrincipalName", "mail", "otherMails", "proxyAddresses")
"""The properties `State.holding` indexes: the ones an address look-up (`find_user`) filters on."""


def address_values(text: str) -> frozenset[str] | None:
    """The values an `or` of equality terms on `ADDRESS_PROPERTIES` compares with (`mail eq 'x'`,
    `otherMails/any(a:a eq 'x')`), casefolded: every user the filter matches holds one of them. None for
    any other filter, which only a scan can answer."""
    tokens = _tokenize(text)
    values: set[str] = set()
    at = 0
    while (term := _address_term(tokens, at)) is not None:
        literal, at = term
        values.add(literal.casefold())
        if at == len(tokens):
            return frozenset(values)
        if tokens[at] != ("name", "or"):
            return None
        at += 1
    return None


def _address_term(tokens: list[tuple[str, str]], at: int) -> tuple[str, int] | None:
    """The literal of the equality term on an address property at `at`, and where the term ends."""
    window = tokens[at : at + 10]
    if not window or window[0][0] != "name" or window[0][1] not in ADDRESS_PROPERTIES:
        return None
    if len(window) >= 3 and window[1] == ("name", "eq") and window[2][0] == "literal":
        return window[2][1], at + 3
    variable = window[4] if len(window) == 10 else ("", "")
    lambda_shape = [("symbol", "/"), ("name", "any"), ("symbol", "("), variable, ("symbol", ":"), variable]
    if (
        variable[0] == "name"
        and window[1:7] == lambda_shape
        and window[7] == ("name", "eq")
        and window[8][0] == "literal"
        and window[9] == ("symbol", ")")
    ):
        return window[8][1], at + 10
    return None


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None:
            raise FilterError(f"cannot read the filter at {text[position:][:20]!r}")
        literal, name, symbol = match.groups()
        if literal is not None:
            tokens.append(("literal", literal[1:-1].replace("''", "'")))
        elif name is not None:
            tokens.append(("name", name))
        else:
            tokens.append(("symbol", symbol))
        position = match.end()
    return tokens


def _text(value: object) -> str:
    return value.casefold() if isinstance(value, str) else ""


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.position = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, kind: str, value: str | None = None) -> str:
        token = self.peek()
        if token is None or token[0] != kind or (value is not None and token[1].lower() != value):
            wanted = value or kind
            raise FilterError(f"expected {wanted!r}, found {token[1] if token else 'the end'!r}")
        self.position += 1
        return token[1]

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token[0] == "name" and token[1].lower() == word:
            self.position += 1
            return True
        return False

    def expression(self) -> Predicate:
        terms = [self.conjunction()]
        while self.keyword("or"):
            terms.append(self.conjunction())
        return terms[0] if len(terms) == 1 else (lambda user: any(term(user) for term in terms))

    def conjunction(self) -> Predicate:
        factors = [self.factor()]
        while self.keyword("and"):
            factors.append(self.factor())
        return factors[0] if len(factors) == 1 else (lambda user: all(factor(user) for factor in factors))

    def factor(self) -> Predicate:
        token = self.peek()
        if token == ("symbol", "("):
            self.take("symbol", "(")
            inner = self.expression()
            self.take("symbol", ")")
            return inner
        name = self.take("name")
        if name.lower() == "startswith":
            self.take("symbol", "(")
            prop = self.take("name")
            self.take("symbol", ",")
            prefix = self.take("literal").casefold()
            self.take("symbol", ")")
            return lambda user: _text(user.get(prop)).startswith(prefix)
        if self.peek() == ("symbol", "/"):
            return self.lambda_any(name)
        if self.keyword("eq"):
            return self.equals(name)
        if self.keyword("in"):
            self.take("symbol", "(")
            values = {self.take("literal").casefold()}
            while self.peek() == ("symbol", ","):
                self.take("symbol", ",")
                values.add(self.take("literal").casefold())
            self.take("symbol", ")")
            return lambda user: _text(user.get(name)) in values
        raise FilterError(f"unsupported operator after {name!r}")

    def equals(self, prop: str) -> Predicate:
        token = self.peek()
        if token is not None and token[0] == "name" and token[1].lower() in ("true", "false"):
            self.position += 1
            flag = token[1].lower() == "true"
            return lambda user: user.get(prop) is flag
        value = self.take("literal").casefold()
        return lambda user: _text(user.get(prop)) == value

    def lambda_any(self, collection: str) -> Predicate:
        self.take("symbol", "/")
        self.take("name", "any")
        self.take("symbol", "(")
        variable = self.take("name")
        self.take("symbol", ":")
        self.take("name", variable.lower())
        self.take("name", "eq")
        value = self.take("literal").casefold()
        self.take("symbol", ")")
        return lambda user: any(_text(item) == value for item in user.get(collection) or ())
