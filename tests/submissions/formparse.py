"""Read forms out of an HTML page with the standard library's parser (an oracle independent of
the templates' and the app's own helpers): what a browser without JavaScript would post."""
from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

from werkzeug.datastructures import MultiDict


@dataclass
class Button:
    name: str
    value: str
    formaction: str | None
    text: str = ""
    hidden: bool = False


@dataclass
class ParsedForm:
    action: str
    classes: str
    # (name, value) in document order, of what a browser would post: hidden, text and
    # checked inputs, textareas and the selected option of each select
    fields: list[tuple[str, str]] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)

    def data(self) -> dict[str, str]:
        return dict(self.fields)

    def post(self, button: Button) -> MultiDict:
        """The body a click on ``button`` sends."""
        return MultiDict([*self.fields, (button.name, button.value)])

    def button(self, value: str) -> Button:
        found = [b for b in self.buttons if b.value == value and not b.hidden]
        assert len(found) == 1, (value, self.buttons)
        return found[0]


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[ParsedForm] = []
        self.ids: list[str] = []
        self.text_of_id: dict[str, str] = {}
        self._textarea: list | None = None
        self._select: str | None = None
        self._select_value: str | None = None
        self._select_first: str | None = None
        self._button: Button | None = None
        self._open_ids: list[tuple[str, str]] = []  # (tag, id) whose text is collected
        self._template = 0

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "template":
            self._template += 1
        if self._template:
            return
        if "id" in a:
            self.ids.append(a["id"])
            if tag in ("legend", "h2", "h3"):
                self._open_ids.append((tag, a["id"]))
                self.text_of_id[a["id"]] = ""
        if tag == "form":
            self.forms.append(ParsedForm(a.get("action", ""), a.get("class", "")))
        if not self.forms:
            return
        form = self.forms[-1]
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if "name" in a and kind not in ("submit", "button"):
                form.fields.append((a["name"], a.get("value", "y" if kind == "checkbox" else "")))
        elif tag == "textarea":
            self._textarea = [a.get("name", ""), ""]
        elif tag == "select":
            self._select, self._select_value, self._select_first = a.get("name"), None, None
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in a:
                self._select_value = value
        elif tag == "button" and a.get("type", "submit") == "submit" and "name" in a:
            self._button = Button(a["name"], a.get("value", ""), a.get("formaction"),
                                  hidden="hidden" in a)
            form.buttons.append(self._button)

    def handle_endtag(self, tag):
        if tag == "template":
            self._template -= 1
            return
        if self._template:
            return
        if self._open_ids and self._open_ids[-1][0] == tag:
            self._open_ids.pop()
        if tag == "textarea" and self._textarea is not None:
            name, text = self._textarea
            # HTML drops the newline right after <textarea>, and a browser posts CRLF as the
            # app's form parser reads it: normalised to LF here
            text = text.replace("\r\n", "\n")
            self.forms[-1].fields.append((name, text[1:] if text.startswith("\n") else text))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            value = self._select_value if self._select_value is not None else self._select_first
            self.forms[-1].fields.append((self._select, value or ""))
            self._select = None
        elif tag == "button":
            self._button = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data
        if self._button is not None:
            self._button.text += data
        for _tag, element_id in self._open_ids:
            self.text_of_id[element_id] += data


@dataclass
class Page:
    forms: list[ParsedForm]
    ids: list[str]
    text_of_id: dict[str, str]

    def form(self, css_class: str) -> ParsedForm:
        found = [f for f in self.forms if css_class in f.classes.split()]
        assert len(found) == 1, [f.classes for f in self.forms]
        return found[0]

    def text(self, element_id: str) -> str:
        return " ".join(self.text_of_id[element_id].split())


def parse(html: str) -> Page:
    parser = _Parser()
    parser.feed(html)
    parser.close()
    return Page(parser.forms, parser.ids, parser.text_of_id)
