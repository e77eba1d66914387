"""A docs/*.md page as HTML for /help/docs/<page>: raw HTML in the page is escaped, and every
heading gets the id its help desk sources link to (doc_sections.slug)."""
from pathlib import Path

from markdown_it import MarkdownIt

from assistant.doc_sections import slug

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def render_page(path: Path) -> tuple[str, str]:
    """(the page's title, its HTML)"""
    tokens = _markdown.parse(path.read_text(encoding="utf-8"))
    title = path.stem
    for opening, inline in zip(tokens, tokens[1:]):
        if opening.type == "heading_open":
            text = "".join(child.content for child in inline.children or [])
            opening.attrSet("id", slug(text))
            if opening.tag == "h1" and title == path.stem:
                title = text
    return title, _markdown.renderer.render(tokens, _markdown.options, {})
