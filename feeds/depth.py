"""How deep the tree an HTML parser builds from markup is, estimated in one linear pass.

Tags are counted as the HTML tree builder (WHATWG, which html5ever inside nh3 follows) turns
them into elements, not as they are written: an unclosed `<p>` is closed by the `<div>` after
it, an `<li>` by the next `<li>` of its list, a `<td>` opens the `<tbody>` and `<tr>` it
implies, and formatting elements left open are opened again inside the next paragraph. The
estimate follows those rules where they close elements and keeps elements open where it is
unsure, so it may count a little deeper than the parser builds, never shallower.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

# Elements the tree builder treats specially (WHATWG "special" category), in lower case.
_SPECIAL = frozenset(
    {
        "address", "applet", "area", "article", "aside", "base", "basefont", "bgsound",
        "blockquote", "body", "br", "button", "caption", "center", "col", "colgroup", "dd",
        "details", "dir", "div", "dl", "dt", "embed", "fieldset", "figcaption", "figure",
        "footer", "form", "frame", "frameset", "h1", "h2", "h3", "h4", "h5", "h6", "head",
        "header", "hgroup", "hr", "html", "iframe", "img", "input", "keygen", "li", "link",
        "listing", "main", "marquee", "menu", "meta", "nav", "noembed", "noframes", "noscript",
        "object", "ol", "p", "param", "plaintext", "pre", "script", "search", "section",
        "select", "source", "style", "summary", "table", "tbody", "td", "template",
        "textarea", "tfoot", "th", "thead", "title", "tr", "track", "ul", "wbr", "xmp",
        "mi", "mo", "mn", "ms", "mtext", "annotation-xml", "foreignobject", "desc",
    }
)  # fmt: skip
_SCOPE = frozenset(
    {
        "applet", "caption", "html", "table", "td", "th", "marquee", "object", "template",
        "mi", "mo", "mn", "ms", "mtext", "annotation-xml", "foreignobject", "desc", "title",
    }
)  # fmt: skip
_LIST_SCOPE = _SCOPE | {"ol", "ul"}
_BUTTON_SCOPE = _SCOPE | {"button"}
_TABLE_SCOPE = frozenset({"html", "table", "template"})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_CLOSES_P = _HEADINGS | {
    "address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div",
    "dl", "fieldset", "figcaption", "figure", "footer", "header", "hgroup", "main", "menu",
    "nav", "ol", "p", "search", "section", "summary", "ul", "pre", "listing", "form", "table",
    "xmp",
}  # fmt: skip
_BLOCK_ENDS = (_CLOSES_P - _HEADINGS - {"p", "form", "table", "xmp"}) | {"button"}
_FORMATTING = frozenset(
    {
        "a",
        "b",
        "big",
        "code",
        "em",
        "font",
        "i",
        "nobr",
        "s",
        "small",
        "strike",
        "strong",
        "tt",
        "u",
    }
)
_MARKERS = frozenset({"applet", "marquee", "object", "td", "th", "caption", "template"})
_VOID = frozenset(
    {
        "area", "base", "basefont", "bgsound", "br", "col", "embed", "hr", "img", "image",
        "input", "keygen", "link", "meta", "param", "source", "track", "wbr", "frame",
    }
)  # fmt: skip
# Elements whose content is text up to their end tag: a `</div>` inside is not a tag.
_RAW_TEXT = frozenset(
    {"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes"}
)
_NEVER_OPEN = frozenset({"html", "body", "head", "frameset"})  # a fragment has them already
_TABLE_PARTS = frozenset(
    {"caption", "colgroup", "col", "tbody", "thead", "tfoot", "tr", "td", "th"}
)
_SECTIONS = frozenset({"tbody", "thead", "tfoot"})
_TABLE_CONTEXTS = _TABLE_PARTS - {"col"} | {"table"}

_NAME = re.compile(r"[^\t\n\f\r />]*+")
# One attribute, with the blanks and stray `/` before it: a quoted value may hold `>`.
_ATTRIBUTE = re.compile(
    r"""[\t\n\f\r /]*+([^\t\n\f\r />][^\t\n\f\r />=]*+"""
    r"""(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+(?:"[^"]*+"|'[^']*+'|[^\t\n\f\r >]*+))?)?"""
)
# Inside <svg> and <math> (until an integration point) tags are not HTML: `<g/>` closes itself.
_FOREIGN = frozenset({"svg", "math"})
_INTEGRATION = frozenset({"foreignobject", "desc", "title", "mi", "mo", "mn", "ms", "mtext"})
_COMMENT_END = re.compile(r"--!?>")


@dataclass(frozen=True, slots=True)
class Token:
    """A start tag, an end tag or a run of text, as the HTML tokenizer reads it."""

    kind: str  # "start", "end" or "text"
    name: str = ""
    attributes: str = ""  # as written: two tags written alike have equal attributes
    self_closing: bool = False  # `<g/>`: honoured in SVG and MathML only


def _tag(markup: str, start: int, kind: str) -> tuple[Token, int] | None:
    """The tag at `start` (after `<` or `</`) and where it ends, or None if the text ends
    inside it (the tokenizer then drops it)."""
    name_end = _NAME.match(markup, start).end()  # type: ignore[union-attr]
    pos = name_end
    slash = False  # whether a `/` ends the tag that is not part of a value: `<a href=x/>`
    while True:
        match = _ATTRIBUTE.match(markup, pos)
        assert match is not None  # every part of it is optional
        if match.end() == pos:
            break
        slash = match.group(1) is None and markup[match.end() - 1] == "/"
        pos = match.end()
    if pos >= len(markup):
        return None
    token = Token(kind, markup[start:name_end].lower(), markup[name_end:pos], slash)
    return token, pos + 1


def tokens(  # noqa: PLR0912 - one branch per state of the WHATWG tokenizer read here
    markup: str, foreign: Callable[[], bool] = lambda: False
) -> Iterator[Token]:
    """The tags and text of `markup` in order, as the HTML tokenizer reads them (comments,
    declarations and processing instructions skipped, the content of `<script>`, `<style>`,
    `<textarea>` and the like taken as text, outside SVG and MathML: `foreign` says whether
    the parser is inside them), in time linear in its length."""
    pos, size = 0, len(markup)
    while pos < size:
        lt = markup.find("<", pos)
        if lt == -1:
            yield Token("text")
            return
        if lt > pos:
            yield Token("text")
        after = markup[lt + 1 : lt + 2]
        if markup.startswith("<!--", lt):
            if markup.startswith(">", lt + 4) or markup.startswith("->", lt + 4):
                pos = markup.index(">", lt + 4) + 1  # `<!-->` and `<!--->` are whole comments
                continue
            end = _COMMENT_END.search(markup, lt + 4)
            if end is None:
                return  # a comment to the end
            pos = end.end()
        elif after in ("!", "?") or (after == "/" and not _letter(markup[lt + 2 : lt + 3])):
            if markup.startswith("</>", lt):
                pos = lt + 3
                continue
            close = markup.find(">", lt)
            if close == -1:
                return  # a bogus comment to the end
            pos = close + 1
        elif _letter(after) or after == "/":
            end_tag = after == "/"
            found = _tag(markup, lt + (2 if end_tag else 1), "end" if end_tag else "start")
            if found is None:
                return
            token, pos = found
            yield token
            if token.kind == "start" and token.name == "plaintext":
                return  # all that follows is text
            if token.kind == "start" and token.name in _RAW_TEXT and not foreign():
                closing = re.compile(rf"</{re.escape(token.name)}[\t\n\f\r />]", re.IGNORECASE)
                end = closing.search(markup, pos)
                if end is None:
                    return  # text to the end
                if end.start() > pos:
                    yield Token("text")
                pos = end.start()
        else:
            yield Token("text")
            pos = lt + 1


def _letter(char: str) -> bool:
    return char.isascii() and char.isalpha()


@dataclass(slots=True, eq=False)  # one element is itself only: compared by identity
class _Element:
    name: str
    attributes: str
    foreign: bool = False  # an SVG or MathML element (not an integration point)


@dataclass(slots=True)
class Tree:
    """The stack of open elements and the list of active formatting elements, as the HTML
    tree builder keeps them (in a fragment: `html` and `body` are not counted)."""

    stack: list[_Element] = field(default_factory=list)
    formatting: list[_Element | None] = field(default_factory=list)  # None: a marker
    deepest: int = 0

    def feed(self, token: Token) -> None:
        if token.kind == "text":
            self._reconstruct()
        elif self.foreign() or (token.kind == "start" and token.name in _FOREIGN):
            self._foreign(token)
        elif token.kind == "start":
            self._start(token.name, token.attributes)
        else:
            self._end(token.name)
        self.deepest = max(self.deepest, len(self.stack))

    def foreign(self) -> bool:
        """Whether the parser is inside SVG or MathML (where tags are not HTML)."""
        return bool(self.stack) and self.stack[-1].foreign

    def _foreign(self, token: Token) -> None:
        # HTML tags that break out of SVG are kept inside it here: deeper, never shallower.
        if token.kind == "start":
            if token.name in _FOREIGN:
                self._reconstruct()
            element = self._push(token.name, token.attributes)
            element.foreign = token.name not in _INTEGRATION
            if token.self_closing:
                self._pop()
            return
        for element in reversed(self.stack):
            if not element.foreign:
                self._end(token.name)
                return
            if element.name == token.name:
                while self.stack and self._pop() is not element:
                    pass
                return

    # -- the stack

    def _push(self, name: str, attributes: str = "") -> _Element:
        element = _Element(name, attributes)
        self.stack.append(element)
        if name in _MARKERS:
            self.formatting.append(None)
        return element

    def _pop(self) -> _Element:
        element = self.stack.pop()
        if element.name in _MARKERS:  # closing a cell, caption or object ends its formatting
            while self.formatting and self.formatting.pop() is not None:
                pass
        return element

    def _pop_until(self, *names: str) -> None:
        while self.stack and self._pop().name not in names:
            pass

    def _top(self) -> str:
        return self.stack[-1].name if self.stack else "html"

    def _in_scope(self, names: frozenset[str] | set[str], boundary: frozenset[str]) -> bool:
        for element in reversed(self.stack):
            if element.name in names:
                return True
            if element.name in boundary:
                return False
        return False

    def _close_p(self) -> None:
        if self._in_scope({"p"}, _BUTTON_SCOPE):
            self._pop_until("p")

    # -- active formatting elements

    def _after_marker(self) -> list[_Element]:
        found: list[_Element] = []
        for entry in reversed(self.formatting):
            if entry is None:
                break
            found.append(entry)
        return found[::-1]

    def _push_formatting(self, name: str, attributes: str) -> None:
        alike = [e for e in self._after_marker() if (e.name, e.attributes) == (name, attributes)]
        if len(alike) >= 3:  # the "Noah's Ark" clause: three alike at most
            self.formatting.remove(alike[0])
        self.formatting.append(self._push(name, attributes))

    def _reconstruct(self) -> None:
        """Open again the formatting elements an implied end tag closed (`<p><b>a<p>b`: the
        second paragraph is bold too)."""
        closed = []
        for entry in reversed(self.formatting):
            if entry is None or any(entry is open_ for open_ in self.stack):
                break
            closed.append(entry)
        for entry in reversed(closed):
            clone = self._push(entry.name, entry.attributes)
            self.formatting[self.formatting.index(entry)] = clone

    def _adopt(self, name: str) -> None:
        """The adoption agency algorithm, on the stack: `</b>` around a block."""
        for _ in range(8):
            element = next((e for e in reversed(self._after_marker()) if e.name == name), None)
            if element is None:
                self._other_end(name)
                return
            at = next((i for i, e in enumerate(self.stack) if e is element), None)
            if at is None:
                self.formatting.remove(element)
                return
            if not self._in_scope({name}, _SCOPE):
                return
            block = next(
                (i for i in range(at + 1, len(self.stack)) if self.stack[i].name in _SPECIAL),
                None,
            )
            if block is None:
                while self.stack and self._pop() is not element:
                    pass
                self.formatting.remove(element)
                return
            # What stays open: the formatting elements between (the three nearest the
            # block), the block, a clone of the element, and what lay above the block.
            between = [e for e in self.stack[at + 1 : block] if e in self.formatting][-3:]
            clone = _Element(element.name, element.attributes)
            self.formatting[self.formatting.index(element)] = clone
            self.stack[at:] = [*between, self.stack[block], clone, *self.stack[block + 1 :]]

    # -- tags

    def _start(self, name: str, attributes: str) -> None:  # noqa: PLR0912 - the spec's rules, in order
        if name in _NEVER_OPEN or name in _RAW_TEXT:
            return
        if self._top() == "colgroup" and name != "col":
            self._pop()
        if name in _TABLE_PARTS:
            self._table_part(name)
        elif name in _VOID:
            if name not in ("hr",):
                self._reconstruct()
            else:
                self._close_p()
        elif name == "table":
            while self._table_context() in ("table", "tbody", "thead", "tfoot", "tr"):
                self._pop_until("table")  # a table directly in a table ends the first
            self._close_p()
            self._push(name)
        elif name in _CLOSES_P:
            self._close_p()
            if name in _HEADINGS and self._top() in _HEADINGS:
                self._pop()
            self._push(name, attributes)
        elif name in ("li", "dd", "dt"):
            self._list_item(name)
        elif name in _FORMATTING:
            if name in ("a", "nobr") and any(e.name == name for e in self._after_marker()):
                self._adopt(name)  # an open link (or nobr) is closed by the next
            self._reconstruct()
            self._push_formatting(name, attributes)
        else:
            if name == "button" and self._in_scope({"button"}, _SCOPE):
                self._pop_until("button")
            if name in ("option", "optgroup") and self._top() == "option":
                self._pop()
            self._reconstruct()
            self._push(name, attributes)

    def _list_item(self, name: str) -> None:
        siblings = {"li"} if name == "li" else {"dd", "dt"}
        for element in reversed(self.stack):
            if element.name in siblings:
                self._pop_until(element.name)
                break
            if element.name in _SPECIAL and element.name not in ("address", "div", "p"):
                break
        self._close_p()
        self._push(name)

    def _table_context(self) -> str | None:
        for element in reversed(self.stack):
            if element.name in _TABLE_CONTEXTS:
                return element.name
            if element.name in ("template", "html"):
                return None
        return None

    def _table_part(self, name: str) -> None:  # noqa: PLR0912 - one branch per table mode
        while True:
            context = self._table_context()
            if context is None:
                return  # outside a table these tags are ignored
            if context in ("td", "th"):
                self._pop_until("td", "th")  # the cell ends
            elif context == "caption":
                self._pop_until("caption")
            elif context == "colgroup":
                self._pop_until("colgroup")
            elif context == "tr":
                if name in ("td", "th"):
                    self._clear_to("tr")
                    self._push(name)
                    return
                self._pop_until("tr")
            elif context in _SECTIONS:
                if name in ("tr", "td", "th"):
                    self._clear_to(*_SECTIONS)
                    self._push("tr")
                    if name != "tr":
                        self._push(name)
                    return
                self._pop_until(*_SECTIONS)
            else:  # in the table itself
                self._clear_to("table")
                if name == "col":
                    self._push("colgroup")
                elif name in ("tr", "td", "th"):
                    self._push("tbody")
                    self._push("tr")
                    if name != "tr":
                        self._push(name)
                else:
                    self._push(name)
                return

    def _clear_to(self, *names: str) -> None:
        while self.stack and self._top() not in (*names, "template"):
            self._pop()

    def _end(self, name: str) -> None:  # noqa: PLR0912 - the spec's rules, in order
        if name in _NEVER_OPEN or name == "br":
            return
        if name == "p":
            self._close_p()
        elif name == "li":
            if self._in_scope({"li"}, _LIST_SCOPE):
                self._pop_until("li")
        elif name in _HEADINGS:
            if self._in_scope(_HEADINGS, _SCOPE):
                self._pop_until(*_HEADINGS)
        elif name in _TABLE_PARTS or name == "table":
            if self._in_scope({name}, _TABLE_SCOPE):
                self._pop_until(name)
        elif name == "form":
            if self._top() == "form":  # otherwise only the form leaves the stack, not the tree
                self._pop()
        elif name in _BLOCK_ENDS or name in ("dd", "dt", "applet", "marquee", "object"):
            if self._in_scope({name}, _SCOPE):
                self._pop_until(name)
        elif name in _FORMATTING:
            self._adopt(name)
        else:
            self._other_end(name)

    def _other_end(self, name: str) -> None:
        for element in reversed(self.stack):
            if element.name == name:
                while self.stack and self._pop() is not element:
                    pass
                return
            if element.name in _SPECIAL:
                return


def deeper_than(markup: str, limit: int, *, max_tags: int) -> str | None:
    """Why the tree of `markup` is too deep (more than `limit` levels) or too big (more than
    `max_tags` tags) to build, or None."""
    tree = Tree()
    tags = 0
    for token in tokens(markup, tree.foreign):
        if token.kind != "text":
            tags += 1
            if tags > max_tags:
                return f"more than {max_tags} tags"
        tree.feed(token)
        if tree.deepest > limit:
            return f"markup nested more than {limit} levels deep"
    return None
