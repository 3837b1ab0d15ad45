"""A post body -> HTML: the Liquid Jekyll posts use, then Markdown (or the HTML as it is).

Liquid runs first, as in Jekyll. `{{ site.* }}`, `{{ page.* }}`, filters, `for`/`if`/`assign`,
`{% raw %}`, `{% link %}`, `{% post_url %}`, `{% highlight %}`, and `{% include %}` /
`{% include_relative %}` with their `include.*` parameters work; any other tag (a plugin's)
is removed with a warning, so readers never see template code.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import posixpath
import re
import stat
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import liquid
import liquid.exceptions
import liquid.loader
import pyromark
from feedsmith import permalink
from feedsmith.files import kind_of, read_regular
from feedsmith.model import Globals, Markup
from feedsmith.text import has_scheme, replace_spans, spans
from liquid.builtin.expressions.primitive import RangeLiteral
from markdown_it import MarkdownIt
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.footnote import footnote_plugin

# Blocks and tags are found as (opener, closer) spans (`spans`): a lazy `.*?` between them
# retried at each of 8,000 unclosed `{% ` scans to the end from each (5.8 s); the patterns
# themselves never backtrack (possessive quantifiers where two could share characters).
_RAW = (re.compile(r"{%-?\s*raw\s*-?%}"), re.compile(r"{%-?\s*endraw\s*-?%}"))
_TAG_SPAN = (re.compile("{%"), re.compile("%}"))
_TAG = re.compile(r"{%-?\s*(\w*)(.*?)-?%}", re.DOTALL)  # one span of _TAG_SPAN, read
_OUTPUT = (re.compile("{{"), re.compile("}}"))
# An opening delimiter left unclosed, with the template words after it (not the prose).
_UNCLOSED = re.compile(r"{[{%]-?(?:[ \t]*+[A-Za-z0-9_.\[\]'\"|:=<>!,()-]++)*+[ \t]*+")
_HIGHLIGHT = (
    re.compile(r"{%-?\s*highlight\s++([\w+#.-]++)[^%]*+%}\n?"),
    re.compile(r"{%-?\s*endhighlight\s*-?%}"),
)
_KRAMDOWN_IAL_LINE = re.compile(r"^ {0,3}\{:[^}\n]*\}[ \t]*$\n?", re.MULTILINE)
_FENCE = re.compile(
    r"(^ {0,3}(?:`{3,}|~{3,})[^\n]*\n.*?(?:^ {0,3}(?:`{3,}|~{3,})[ \t]*$|\Z))",
    re.DOTALL | re.MULTILINE,
)
_MAX_RANGE = 10_000

# Tags python-liquid knows that make sense inside a post. (Jekyll's `include` is translated
# to python-liquid's, see `_include_call`; `render` is not Jekyll's and goes.)
_KNOWN_TAGS = frozenset(
    {
        "assign", "capture", "endcapture", "case", "when", "endcase", "comment", "endcomment",
        "cycle", "decrement", "increment", "echo", "for", "endfor", "break", "continue",
        "if", "elsif", "else", "endif", "unless", "endunless", "ifchanged", "endifchanged",
        "liquid", "tablerow", "endtablerow", "raw", "endraw",
    }
)  # fmt: skip


LINK_TAGS = re.compile(r"{%-?\s*(?:post_url|link)\b")
INCLUDE_TAGS = re.compile(r"{%-?\s*include(?:_relative)?\b")


def _bounded_range(self: RangeLiteral, start: Any, stop: Any) -> range:
    """`(1..100000000)` is cut to its first 10,000 numbers before `reversed` or `join` see it."""
    full = _unbounded_range(self, start, stop)
    return full if len(full) <= _MAX_RANGE else range(full.start, full.start + _MAX_RANGE)


# The loop limit below does not stop `reversed` or `join` from building a whole range first.
_unbounded_range = RangeLiteral._make_range
RangeLiteral._make_range = _bounded_range  # type: ignore[method-assign]


class _Environment(liquid.Environment):
    # A post is untrusted input: bound what a template can make the build do.
    loop_iteration_limit = 10_000
    output_stream_limit = 2_000_000
    local_namespace_limit = 100_000
    context_depth_limit = 30


def _jekyll_filters(url: str, baseurl: str) -> dict[str, Callable[..., Any]]:
    def relative_url(value: Any) -> str:
        text = str(value)
        return text if has_scheme(text) else permalink.site_path(baseurl, text)

    def absolute_url(value: Any) -> str:
        return permalink.absolute(url, baseurl, str(value))

    def date_to_xmlschema(value: Any) -> str:
        return value.isoformat() if isinstance(value, (date, datetime)) else str(value)

    return {
        "relative_url": relative_url,
        "absolute_url": absolute_url,
        "slugify": lambda value, mode="default": permalink.slugify(str(value), mode=str(mode)),
        "xml_escape": lambda value: html.escape(str(value), quote=True),
        "cgi_escape": lambda value: quote_plus(str(value)),
        "uri_escape": lambda value: quote(str(value), safe="/:?#[]@!$&'()*+,;=%-._~"),
        "jsonify": lambda value: json.dumps(value, ensure_ascii=False, default=str),
        "normalize_whitespace": lambda value: " ".join(str(value).split()),
        "number_of_words": lambda value: len(str(value).split()),
        "smartify": str,
        "markdownify": lambda value: _markdown().render(str(value)),
        "date_to_xmlschema": date_to_xmlschema,
        "array_to_sentence_string": lambda value, connector="and": _sentence(value, str(connector)),
    }


def _sentence(value: Any, connector: str) -> str:
    items = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    if len(items) <= 2:
        return f" {connector} ".join(items)
    return f"{', '.join(items[:-1])}, {connector} {items[-1]}"


MAX_STRING = _Environment.output_stream_limit  # no string a template makes may be longer


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _join_size(value: Any, separator: Any = " ", *_: Any, **__: Any) -> int:
    items = value if isinstance(value, (list, tuple)) else [value]
    return sum(len(_text(item)) for item in items) + len(_text(separator)) * max(len(items) - 1, 0)


def _replace_size(value: Any, seq: Any = "", sub: Any = "", *_: Any, **__: Any) -> int:
    text, old, new = _text(value), _text(seq), _text(sub)
    count = text.count(old) if old else len(text) + 1
    return len(text) + count * (len(new) - len(old))


def _concat_size(value: Any, other: Any = "", *_: Any, **__: Any) -> int:
    return len(_text(value)) + len(_text(other))


# How long the string each filter would make is, told from its arguments before it is made:
# `replace` and `join` can turn a short template into gigabytes in one expression, before the
# namespace or output limits see anything.
_RESULT_SIZE: dict[str, Callable[..., int]] = {
    "append": _concat_size,
    "prepend": _concat_size,
    "replace": _replace_size,
    "replace_first": _concat_size,
    "replace_last": _concat_size,
    "join": _join_size,
}


def _bounded(
    name: str, function: Callable[..., Any], size: Callable[..., int]
) -> Callable[..., Any]:
    @functools.wraps(function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        if size(*args, **kwargs) > MAX_STRING:
            raise liquid.exceptions.ResourceLimitError(
                f"`{name}` would make a string of more than {MAX_STRING:,} characters", token=None
            )
        return function(*args, **kwargs)

    return bounded


@cache
def _environment(url: str, baseurl: str) -> _Environment:
    env = _Environment(strict_filters=False, loader=_IncludeLoader())
    env.filters.update(_jekyll_filters(url, baseurl))
    for name, size in _RESULT_SIZE.items():
        env.filters[name] = _bounded(name, env.filters[name], size)
    return env


def _resolve_link(target: str, site: Globals) -> tuple[str, bool]:
    """`{% link path %}` -> (site-relative URL, whether the target is known to exist)."""
    target = target.strip().strip("'\"").lstrip("/")
    links = site.links
    if target in links.by_rel:
        return links.by_rel[target], True
    head, _, rest = target.partition("/")
    if head.startswith("_") and rest and head[1:] in links.collections:
        path = permalink.collection_path(
            links.collections[head[1:]], collection=head[1:], relative=rest
        )
    elif head.startswith("_") and rest:
        path = permalink.collection_path(
            links.collections.get("*", "/:collection/:path:output_ext"),
            collection=head[1:],
            relative=rest,
        )
    else:
        stem, _, ext = target.rpartition(".")
        page = target if ext not in ("md", "markdown", "html", "htm") else f"{stem}.html"
        path = "/" + (page[: -len("index.html")] if page.endswith("index.html") else page)
    return path, (links.root / target).is_file()


@dataclass(frozen=True, slots=True)
class Includes:
    """Where `{% include %}` and `{% include_relative %}` find their files, for one post."""

    root: Path  # the source folder: no included file lies outside it
    folder: str = "_includes"  # Jekyll's `includes_dir`
    here: str = ""  # the post's folder, relative to the root (for include_relative)
    max_bytes: int = 5_000_000


# Jekyll's own syntax (Jekyll::Tags::IncludeTag): a file name, then `key=value` parameters,
# the value a quoted string or a variable.
_PARAM = re.compile(  # a name is read from its first letter: once, not from each
    r"""(?<![\w-])([\w-]+)\s*=\s*(?:"([^"\\]*(?:\\.[^"\\]*)*)"|'([^'\\]*(?:\\.[^'\\]*)*)'|([\w.-]+))"""
)
_FILE_NAME = re.compile(r"^[\w/.\-()+~#@]+$")
_VARIABLE_NAME = re.compile(
    r"(?P<name>[^{]*(?:{{\s*[\w\-.]+\s*(?:\|.*?)?}}[^\s{}]*)+)(?P<params>.*)"
)
_CLIMBS = re.compile(r"[./]{2,}")
_INCLUDE_REF = re.compile(r"(?<![\w.])include\.([\w-]+)")


def _parameter(name: str) -> str:
    """What `include.name` is called inside python-liquid's include: a variable of its own."""
    return "__include_" + name.replace("-", "_")


def _include_refs(text: str) -> str:
    """`include.title` -> `__include_title`, inside Liquid only (prose keeps its words)."""
    return replace_spans(
        text,
        spans(text, _OUTPUT, _TAG_SPAN),
        lambda span: _INCLUDE_REF.sub(lambda m: _parameter(m.group(1)), span),
    )


def _liquid_string(text: str) -> str:
    if '"' not in text:
        return f'"{text}"'
    return f"'{text}'" if "'" not in text else '"' + text.replace('"', "") + '"'


def _include_call(
    tag: str,
    argument: str,
    includes: Includes,
    render_name: Callable[[str], str],
    warn: Callable[[str], None],
) -> str:
    """Jekyll's `{% include file.html key="value" other=page.title %}` as python-liquid's
    `{% include "inc:file.html", __include_key: "value", __include_other: page.title %}`,
    or "" with a warning when the file cannot be included."""
    text = argument.strip()
    dynamic = _VARIABLE_NAME.match(text) if "{{" in text else None
    if dynamic is not None:  # a name made of variables: `{% include {{ page.widget }}.html %}`
        name, params = render_name(dynamic.group("name")).strip(), dynamic.group("params")
    else:
        name, _, params = text.partition(" ")
    shown = f"{{% {tag} {argument.strip()} %}}"
    if not name or not _FILE_NAME.match(name) or _CLIMBS.search(name):
        warn(f"{shown}: {name!r} is not a file name Jekyll includes; removed")
        return ""
    where = (
        f"inc:{includes.folder.strip('/')}/{name}"
        if tag == "include"
        else f"rel:{includes.here.strip('/')}/{name}".replace(":/", ":")
    )
    if _include_file(includes, where) is None:
        warn(f"{shown}: {_not_included(includes, where)}; removed")
        return ""
    arguments = []
    for match in _PARAM.finditer(params):
        key, double, single, variable = match.groups()
        if variable is not None:
            value = _include_refs("{{" + variable + "}}")[2:-2]
        else:
            value = _liquid_string(double if double is not None else single)
        arguments.append(f"{_parameter(key)}: {value}")
    joined = "".join(f", {a}" for a in arguments)
    return f'{{% include "{where}"{joined} %}}'


def _include_file(includes: Includes, where: str) -> Path | None:
    """The file an include names (`inc:_includes/x.html`, `rel:_posts/x.md`), if it is a
    regular file inside the source folder and not too large; None otherwise."""
    _, _, rel = where.partition(":")
    root = includes.root.resolve()
    try:
        path = (root / rel).resolve()
        path.relative_to(root)
        info = path.stat()
    except (OSError, ValueError):
        return None
    return path if stat.S_ISREG(info.st_mode) and info.st_size <= includes.max_bytes else None


def _not_included(includes: Includes, where: str) -> str:
    """Why `_include_file` found no file for `where`, for a warning."""
    rel = where.split(":", 1)[1]
    try:
        info = (includes.root.resolve() / rel).stat()
    except (OSError, ValueError):
        return f"no such file ({rel})"
    if not stat.S_ISREG(info.st_mode):
        return f"{rel}: not a regular file ({kind_of(info.st_mode)})"
    if info.st_size > includes.max_bytes:
        return f"{rel}: {info.st_size} bytes, larger than max_post_bytes ({includes.max_bytes})"
    return f"{rel} leads outside the source folder"


# What one render of a post included, and where it may include from (thread- and
# process-safe: `serve` renders in threads, `build` in processes).
_RENDERING: ContextVar[tuple[Includes, Globals, Callable[[str], None], list[tuple[str, str]]]] = (
    ContextVar("feedsmith_include")
)


class _IncludeLoader(liquid.loader.BaseLoader):
    """Loads Jekyll includes for python-liquid's include tag, translated as the post is."""

    def get_source(
        self, env: Any, template_name: str, *, context: Any = None, **kwargs: object
    ) -> liquid.loader.TemplateSource:
        try:
            includes, site, warn, inputs = _RENDERING.get()
        except LookupError as exc:
            raise liquid.exceptions.TemplateNotFoundError(template_name) from exc
        path = _include_file(includes, template_name)
        if path is None:
            raise liquid.exceptions.TemplateNotFoundError(template_name)
        try:
            # The path is resolved, so no symlink is left in it: one appearing now is refused.
            data = read_regular(path, follow=False, limit=includes.max_bytes)
        except OSError as exc:
            raise liquid.exceptions.TemplateNotFoundError(template_name) from exc
        if len(data) > includes.max_bytes:
            raise liquid.exceptions.TemplateNotFoundError(template_name)
        inputs.append((str(path), hashlib.blake2b(data, digest_size=16).hexdigest()))
        text = data.decode("utf-8", "replace")
        here = replace(includes, here=posixpath.dirname(template_name.split(":", 1)[1]))
        prepared = _include_refs(_preprocess(text, site, warn, here, lambda name: name))
        return liquid.loader.TemplateSource(prepared, template_name, None, None)


def _preprocess(
    body: str,
    site: Globals,
    warn: Callable[[str], None],
    includes: Includes | None = None,
    render_name: Callable[[str], str] = lambda name: name,
) -> str:
    """Resolve Jekyll's own tags and remove unknown ones, outside `{% raw %}` blocks."""

    def highlight(block: str) -> str:
        opener = _HIGHLIGHT[0].match(block)
        closer = _HIGHLIGHT[1].search(block, opener.end()) if opener else None
        assert opener is not None and closer is not None  # a span is one opener to its closer
        lang, code = opener.group(1), block[opener.end() : closer.start()].rstrip("\n")
        escaped = html.escape(code, quote=False)
        return f'{{% raw %}}<pre><code class="language-{html.escape(lang)}">{escaped}</code></pre>{{% endraw %}}'

    def tag(match: re.Match[str]) -> str:
        name, argument = match.group(1), match.group(2).strip()
        if name in _KNOWN_TAGS:
            return match.group(0)
        if name in ("include", "include_relative") and includes is not None:
            return _include_call(name, argument, includes, render_name, warn)
        if name == "post_url":
            key = argument.strip("'\"").rsplit("/", 1)[-1]
            found = site.links.by_name.get(key)
            if found is None:
                warn(f"{{% post_url {argument} %}}: no such post; link left empty")
                return ""
            return quote(site.baseurl, safe="/") + found
        if name == "link":
            path, exists = _resolve_link(argument, site)
            if not exists:
                warn(
                    f"{{% link {argument} %}}: {argument!r} is not in the source folder; linked to {path}"
                )
            return quote(site.baseurl, safe="/") + path
        warn(f"Liquid tag {{% {name} %}} is not supported in feeds; removed")
        return ""

    parts = _raw_split(body)
    for i in range(0, len(parts), 2):  # even parts lie outside raw blocks
        text = replace_spans(parts[i], spans(parts[i], _HIGHLIGHT), highlight)
        parts[i] = _sub_tags(text, tag)
    return "".join(parts)


def _raw_split(body: str) -> list[str]:
    """`body` cut at its `{% raw %}…{% endraw %}` blocks: text, block, text, … (odd: blocks)."""
    parts: list[str] = []
    last = 0
    for start, end in spans(body, _RAW):
        parts += (body[last:start], body[start:end])
        last = end
    parts.append(body[last:])
    return parts


def _unclosed_raw(text: str) -> bool:
    """Whether a `{% raw %}` of `text` has no `{% endraw %}` after it."""
    last = 0
    for _, end in spans(text, _RAW):
        last = end
    return _RAW[0].search(text, last) is not None


def _sub_tags(text: str, replacement: Callable[[re.Match[str]], str]) -> str:
    """Each `{% … %}` tag of `text` replaced (as `_TAG.sub` would, in linear time)."""

    def one(span: str) -> str:
        match = _TAG.fullmatch(span)
        assert match is not None  # any `{%` to the first `%}` after it is a tag
        return replacement(match)

    return replace_spans(text, spans(text, _TAG_SPAN), one)


def _strip_liquid(body: str) -> str:
    """Last resort for a template Liquid cannot parse: keep the text, drop every tag."""
    parts = _raw_split(body)
    for i, part in enumerate(parts):
        if i % 2:
            parts[i] = re.sub(r"^{%-?\s*raw\s*-?%}|{%-?\s*endraw\s*-?%}$", "", part)
        else:
            # Closed tags first, then any delimiter left open with its template words.
            closed = replace_spans(part, spans(part, _TAG_SPAN), lambda _: "")
            closed = replace_spans(closed, spans(closed, _OUTPUT), lambda _: "")
            parts[i] = _UNCLOSED.sub("", closed)
    return "".join(parts)


def render_liquid(
    body: str,
    *,
    page: Mapping[str, Any],
    site: Globals,
    warn: Callable[[str], None],
    includes: Includes | None = None,
    inputs: list[tuple[str, str]] | None = None,
) -> str:
    """Run the Liquid in a post body the way Jekyll would, minus what feeds cannot show.

    `includes`: where `{% include %}` finds its files (none: it is removed with a warning);
    `inputs` receives (path, digest) of every file included, what the result depends on.
    """
    if "{{" not in body and "{%" not in body:
        return body
    env = _environment(site.url, site.baseurl)

    def render_name(template: str) -> str:
        return env.from_string(template).render(site=dict(site.vars), page=dict(page))

    read: list[tuple[str, str]] = [] if inputs is None else inputs
    token = _RENDERING.set((includes or Includes(Path("/nonexistent")), site, warn, read))
    try:
        prepared = _preprocess(body, site, warn, includes, render_name)
        if _unclosed_raw(prepared):
            # python-liquid refuses it too, after scanning from each `{% raw %}` to the end
            # for its `{% endraw %}` (`{%raw%}` × 20,000: 38 s).
            raise liquid.exceptions.LiquidSyntaxError("unexpected tag 'raw'", token=None)
        return env.from_string(prepared).render(site=dict(site.vars), page=dict(page))
    except (liquid.exceptions.LiquidError, RecursionError, ValueError, TypeError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        warn(f"Liquid error ({first_line}); template tags removed")
        return _strip_liquid(body)
    finally:
        _RENDERING.reset(token)


@cache
def _markdown(*, tables: bool = True, strikethrough: bool = True) -> MarkdownIt:
    # CommonMark with raw HTML passed through (news bodies are HTML inside Markdown), GFM
    # tables and strikethrough, and the footnotes / definition lists kramdown users write.
    # (to_html leaves tables or strikethrough out for a body that cannot have them.)
    md = (
        MarkdownIt("commonmark", {"html": True})
        .enable([rule for rule, on in (("table", tables), ("strikethrough", strikethrough)) if on])
        .use(footnote_plugin)
        .use(deflist_plugin)
    )
    # `<del>`, as GFM writes strikethrough.
    md.add_render_rule("s_open", lambda *_: "<del>")
    md.add_render_rule("s_close", lambda *_: "</del>")
    # Pure functions of one URL, and news bodies repeat theirs (the site's own navigation
    # links): remembered, they stop costing a tenth of the rendering.
    md.normalizeLink = lru_cache(maxsize=4096)(md.normalizeLink)  # type: ignore[method-assign]
    md.normalizeLinkText = lru_cache(maxsize=4096)(md.normalizeLinkText)  # type: ignore[method-assign]
    md.validateLink = lru_cache(maxsize=4096)(md.validateLink)  # type: ignore[method-assign]
    return md


# A line that may begin a definition (`: …`, or `~ …` for the plugin), in a quote or not:
# kramdown syntax only markdown-it-py's plugin reads.
_DEFINITION = re.compile(r"^[ \t>]*[:~] ", re.MULTILINE)
# A table delimiter row without a pipe (`---`, `-:`): the two read such tables differently.
_BARE_DELIMITER = re.compile(r"^ *:?-+:? *$", re.MULTILINE)
# An empty list item (`- ` alone on its line): markdown-it-py ends the list after one followed
# by blank lines, pulldown-cmark goes on with the next item.
_EMPTY_ITEM = re.compile(r"^ {0,3}(?:[-+*]|\d{1,9}[.)]) *$", re.MULTILINE)
# Links markdown-it-py refuses to make (it shows their Markdown as text), where pulldown-cmark
# makes them and the sanitiser then drops the address: safe either way, but not alike.
_REFUSED_SCHEMES = ("javascript:", "vbscript:", "file:", "data:")
# A host name that is not ASCII (`//❤.example`): markdown-it-py writes it in punycode,
# pulldown-cmark percent-encodes it.
_NON_ASCII_HOST = re.compile(r"//[^\s/?#)>\]\"'<]*[^\x00-\x7f]")


_TILDES = re.compile(r"~+")
_STRIKE_INSIDE_WORDS = re.compile(r"(?<=[^\s~])~~(?=[^\s~])")


def _tildes_alike(body: str) -> bool:
    """Whether both engines read the tildes of `body` alike: `~~` runs only (pulldown-cmark
    also strikes `~one~`, which ranges like `5 ~8~ 10` trip), none escaped, and none with text
    right on both sides (`a~~b~~c`: the two apply different flanking rules there)."""
    if "~" not in body:
        return True
    return (
        "\\~" not in body
        and all(len(run) == 2 for run in _TILDES.findall(body))
        and _STRIKE_INSIDE_WORDS.search(body) is None
    )


def _plain_commonmark(body: str) -> bool:
    """Whether `body` is rendered alike by pulldown-cmark and markdown-it-py.

    Such a body is rendered by pulldown-cmark (through pyromark), twenty times faster. The
    rest takes markdown-it-py: footnotes and definition lists (kramdown syntax its plugins
    read), tildes the two read differently (`_tildes_alike`), tabs (pulldown-cmark reads a
    tab before a line end as a hard break), a table whose delimiter row has no pipe (`| a |`
    over `-:`), empty list items, links to `javascript:` and the like, and host names that
    are not ASCII.
    """
    return (
        _tildes_alike(body)
        and "[^" not in body
        and "\t" not in body
        and _DEFINITION.search(body) is None
        and not ("|" in body and _BARE_DELIMITER.search(body))
        and _EMPTY_ITEM.search(body) is None
        and not _refused_scheme(body)
        and (body.isascii() or _NON_ASCII_HOST.search(body) is None)
    )


def _refused_scheme(body: str) -> bool:
    # Lower-cased once and searched for each: a case-blind regex costs five times more.
    lowered = body.lower()
    return any(scheme in lowered for scheme in _REFUSED_SCHEMES)


# markdown-it-py's inline rules scan ahead from each unclosed `[`, `![` or `*` (`[a](` × 40,000
# takes 1.8 s, × 1,200,000 far more than a minute): a body larger than this takes pulldown-cmark,
# which is linear, whatever it holds (footnotes and definition lists included). Real posts stay
# far below; such a body is read by pulldown-cmark's rules where the two differ (see
# `_plain_commonmark`).
MARKDOWN_IT_MAX = 100_000


def _fast_html(body: str, *, extended: bool = False) -> str | None:
    """pulldown-cmark's HTML of a plain CommonMark body, or None if it cannot give it.
    `extended`: with strikethrough, footnotes and definition lists as well."""
    # markdown-it-py ends the last line of a code block with a line end even at the end of
    # the text; pulldown-cmark only when the text has one.
    text = body if body.endswith("\n") else body + "\n"
    try:
        options = pyromark.Options.ENABLE_TABLES
        if "~~" in body or extended:
            options |= pyromark.Options.ENABLE_STRIKETHROUGH
        if extended:
            options |= pyromark.Options.ENABLE_FOOTNOTES | pyromark.Options.ENABLE_DEFINITION_LIST
        html: str = pyromark.html(text, options=options)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # a Rust panic arrives as a BaseException (PanicException)
        return None
    # A table of a head only: markdown-it-py writes no <tbody> at all.
    return html.replace("<tbody>\n</tbody>", "") if "<tbody>\n</tbody>" in html else html


def to_html(body: str, markup: Markup, *, kramdown_attributes: bool = True) -> str:
    """Markdown -> HTML; HTML bodies are returned as they are."""
    if markup == "html":
        return body
    if kramdown_attributes and "{:" in body:
        parts = _FENCE.split(body)  # odd parts are fenced code: kept as written
        for i in range(0, len(parts), 2):
            parts[i] = _without_ial_tails(_KRAMDOWN_IAL_LINE.sub("", parts[i]))
        body = "".join(parts)
    if len(body) > MARKDOWN_IT_MAX:
        fast = _fast_html(body, extended=True)
        if fast is None:
            raise ValueError("pulldown-cmark failed on a body too large for markdown-it-py")
        return fast
    if _plain_commonmark(body):
        fast = _fast_html(body)
        if fast is not None:
            return fast
    return _markdown_it_html(body)


def _without_ial_tails(text: str) -> str:
    """`text` without the kramdown attribute lists that end its lines (`Text {: .lead}`),
    as `(?<=\\S)[ \\t]*\\{:[^}\\n]*\\}[ \\t]*$` (multiline) removes them, in linear time: the
    regex scans from each `{:` to the line's next `}`, and `{:` × 100,000 has none."""
    return "\n".join(_without_ial_tail(line) if "{:" in line else line for line in text.split("\n"))


def _without_ial_tail(line: str) -> str:
    kept = line.rstrip(" \t")
    if not kept.endswith("}"):
        return line
    close = len(kept) - 1
    # The list opens after the `}` before the last one (a list holds no `}`), at the first
    # `{:` there that something other than blanks precedes on the line.
    opening = kept.find("{:", kept.rfind("}", 0, close) + 1, close)
    while opening != -1:
        cut = len(kept[:opening].rstrip(" \t"))
        if cut > 0 and not kept[cut - 1].isspace():
            return kept[:cut]
        opening = kept.find("{:", opening + 1, close)
    return line


def _markdown_it_html(body: str) -> str:
    """markdown-it-py's HTML of `body`, with every rule the body could use."""
    # A table needs a `|` in its header line, strikethrough a `~`: without them those rules
    # can never match, and leaving them out spares trying the table rule at every line.
    html: str = _markdown(tables="|" in body, strikethrough="~" in body).render(body)
    return html
