"""Block Kit as terminal text, and a modal as the prompts that fill it in.

Pure functions: no I/O, no clock. The session decides what to show and when;
this module decides how it reads in a terminal:

- messages: header, section text and fields (``*Label*\\nvalue`` as ``Label: value``),
  context, dividers, and buttons as ``[Reintentar]``; Slack's mrkdwn markers,
  mentions and emoji codes become plain text a person can read;
- modals: one `Prompt` per input block (label, hint, options as a numbered list with
  option groups as headings, the prefilled value as the default), the
  ``state.values`` Slack would send for the answers, and the ``block_actions``
  entry for an input that dispatches actions (``dispatch_action: true``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from devkit.localslack.payloads import (
    checkboxes_value,
    email_value,
    plain_text_value,
    radio_action,
    radio_value,
    static_select_action,
    static_select_value,
)

JsonDict = dict[str, Any]
#: An input's value: typed text or one option's value, several options' values, or nothing.
Value = str | tuple[str, ...] | None

#: Emoji codes the bot uses (and a few common ones), as the characters Slack shows.
EMOJI: Final[Mapping[str, str]] = {
    "white_check_mark": "✅",
    "heavy_check_mark": "✔",
    "x": "❌",
    "grey_question": "❔",
    "question": "❓",
    "hourglass_flowing_sand": "⏳",
    "hourglass": "⌛",
    "warning": "⚠",
    "no_entry": "⛔",
    "no_entry_sign": "🚫",
    "information_source": "ℹ",
    "email": "📧",
    "envelope": "✉",
    "inbox_tray": "📥",
    "outbox_tray": "📤",
    "repeat": "🔁",
    "arrows_counterclockwise": "🔄",
    "lock": "🔒",
    "mag": "🔍",
    "memo": "📝",
    "bust_in_silhouette": "👤",
    "clock3": "🕒",
    "tada": "🎉",
}

#: Element types answered by choosing one option.
CHOICE_TYPES: Final = frozenset({"radio_buttons", "static_select"})
#: Element types answered by choosing any number of options.
MULTI_CHOICE_TYPES: Final = frozenset({"checkboxes", "multi_static_select"})
#: Element types answered with typed text.
TEXT_TYPES: Final = frozenset(
    {"plain_text_input", "email_text_input", "url_text_input", "number_input"}
)

#: The block id of the bot's "re-sending…" message, which its outcome replaces.
PROGRESS_BLOCK_ID: Final = "resend_progress"

BAR: Final = "│ "
_RULE: Final = "─"

# <@U123>, <@U123|name>, <#C123>, <#C123|name>, <!here>, <!subteam^S1|@team>, <url|label>, <url>
_ANGLE = re.compile(r"<([^<>\n]+)>")
_EMOJI_CODE = re.compile(r":([a-z0-9_+\-]+):")
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])")
_CODE_SPAN = re.compile(r"(`[^`\n]*`)")
_LABELLED_FIELD = re.compile(r"\A\*([^*\n]+)\*\n(.*)\Z", re.DOTALL)
_EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_BOX_PREFIX = re.compile(r"^[│┌└├─ ]+", re.MULTILINE)


@dataclass(frozen=True)
class Names:
    """Display names for Slack ids: ``<@U1>`` reads ``@ana``, ``<#C1>`` reads ``#soporte``."""

    users: Mapping[str, str] = field(default_factory=dict)
    channels: Mapping[str, str] = field(default_factory=dict)


# --- text ------------------------------------------------------------------------


def emojize(text: str) -> str:
    """Replace known ``:emoji:`` codes with the characters Slack shows."""
    return _EMOJI_CODE.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _angle(match: re.Match[str], names: Names) -> str:
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        user_id = target[1:]
        return "@" + (label or names.users.get(user_id, user_id))
    if target.startswith("#"):
        channel_id = target[1:]
        return "#" + (label or names.channels.get(channel_id, channel_id))
    if target.startswith("mailto:"):
        return label or target.removeprefix("mailto:")
    if target.startswith("!"):
        special = target[1:]
        if label:
            return label
        return "@" + special.split("^", 1)[0]
    if label:
        return f"{label} ({_unescape(target)})"
    return _unescape(target)


def _strip_markers(text: str) -> str:
    for pattern in (_BOLD, _ITALIC, _STRIKE):
        text = pattern.sub(r"\1", text)
    return text


def mrkdwn_to_text(text: str, names: Names | None = None) -> str:
    """Slack mrkdwn as plain terminal text (code spans keep their backticks)."""
    names = names or Names()
    text = _ANGLE.sub(lambda m: _angle(m, names), text)
    parts = _CODE_SPAN.split(text)
    rendered = [
        part if index % 2 else _strip_markers(emojize(part)) for index, part in enumerate(parts)
    ]
    return _unescape("".join(rendered))


def text_object(obj: Any, names: Names | None = None) -> str:
    """A composition text object (``plain_text`` or ``mrkdwn``) as plain text."""
    if isinstance(obj, str):
        return obj
    if not isinstance(obj, Mapping):
        return ""
    text = str(obj.get("text", ""))
    if obj.get("type") == "mrkdwn":
        return mrkdwn_to_text(text, names)
    return emojize(text) if obj.get("emoji", True) else text


def fold(text: str) -> str:
    """Lower case without accents, whitespace collapsed: for forgiving comparisons."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.split())


def searchable(text: str) -> str:
    """Rendered output as expectations see it: box drawing removed, then `fold`-ed."""
    return fold(_BOX_PREFIX.sub("", text))


# --- blocks ----------------------------------------------------------------------


def _field_lines(obj: Any, names: Names) -> list[str]:
    raw = str(obj.get("text", "")) if isinstance(obj, Mapping) else str(obj)
    if isinstance(obj, Mapping) and obj.get("type") == "mrkdwn":
        labelled = _LABELLED_FIELD.match(raw)
        if labelled:
            label = mrkdwn_to_text(labelled.group(1), names)
            values = mrkdwn_to_text(labelled.group(2), names).split("\n")
            indent = " " * (len(label) + 2)
            return [f"{label}: {values[0]}", *(indent + line for line in values[1:])]
    return text_object(obj, names).split("\n")


def _element_label(element: Mapping[str, Any], names: Names) -> str:
    kind = element.get("type")
    if kind == "button":
        return f"[{text_object(element.get('text'), names)}]"
    if kind in {"static_select", "external_select", "users_select", "conversations_select"}:
        placeholder = text_object(element.get("placeholder"), names) or "elegir"
        return f"[{placeholder} ▾]"
    if kind == "overflow":
        return "[⋯]"
    if kind == "image":
        return f"[imagen: {element.get('alt_text', '')}]"
    if kind in {"mrkdwn", "plain_text"}:
        return text_object(element, names)
    return f"[{kind}]"


def _rich_text(node: Any) -> str:
    if isinstance(node, Mapping):
        if node.get("type") == "text":
            return str(node.get("text", ""))
        if node.get("type") == "emoji":
            return EMOJI.get(str(node.get("name")), f":{node.get('name')}:")
        if node.get("type") == "link":
            return str(node.get("text") or node.get("url", ""))
        return "".join(_rich_text(child) for child in node.get("elements", []))
    if isinstance(node, list):
        return "".join(_rich_text(child) for child in node)
    return ""


def render_block(block: Mapping[str, Any], names: Names | None = None) -> list[str]:
    """One block as terminal lines."""
    names = names or Names()
    kind = block.get("type")
    if kind == "header":
        title = text_object(block.get("text"), names)
        return [title, _RULE * max(len(title), 3)]
    if kind == "section":
        lines: list[str] = []
        if block.get("text"):
            lines.extend(text_object(block["text"], names).split("\n"))
        for item in block.get("fields") or []:
            lines.extend(_field_lines(item, names))
        accessory = block.get("accessory")
        if isinstance(accessory, Mapping):
            lines.append(_element_label(accessory, names))
        return lines
    if kind == "context":
        parts = [_element_label(e, names) for e in block.get("elements", [])]
        return "   ·   ".join(parts).split("\n")
    if kind == "actions":
        return ["  ".join(_element_label(e, names) for e in block.get("elements", []))]
    if kind == "divider":
        return [_RULE * 24]
    if kind == "image":
        return [f"[imagen: {block.get('alt_text', '')}]"]
    if kind == "rich_text":
        return _rich_text(block.get("elements", [])).split("\n")
    if kind == "input":
        return [text_object(block.get("label"), names)]
    return [f"[bloque {kind}]"]


def render_blocks(blocks: Iterable[Mapping[str, Any]], names: Names | None = None) -> list[str]:
    """Every block as terminal lines, in order."""
    lines: list[str] = []
    for block in blocks:
        lines.extend(render_block(block, names))
    return lines


def render_message(
    *,
    heading: str,
    text: str,
    blocks: Sequence[Mapping[str, Any]] = (),
    names: Names | None = None,
    footer: str | None = None,
) -> str:
    """A message as a framed block of text: heading, content, the demo's footer line."""
    body = render_blocks(blocks, names) if blocks else mrkdwn_to_text(text, names).split("\n")
    lines = [f"┌─ {heading}", *(BAR + line if line else BAR.rstrip() for line in body)]
    if footer:
        lines.append(BAR + footer)
    lines.append("└─")
    return "\n".join(lines)


def looks_in_progress(blocks: Sequence[Mapping[str, Any]]) -> bool:
    """Whether a message is the bot's "re-sending…" placeholder, still to be replaced.

    Recognised by its block id, never by its wording.
    """
    return any(
        isinstance(block, Mapping) and block.get("block_id") == PROGRESS_BLOCK_ID
        for block in blocks
    )


# --- buttons ---------------------------------------------------------------------


@dataclass(frozen=True)
class Button:
    """A button in a message, with what pressing it sends."""

    label: str
    action_id: str
    block_id: str
    value: str | None
    confirm: Mapping[str, Any] | None
    url: str | None = None


def buttons_in(blocks: Iterable[Mapping[str, Any]], names: Names | None = None) -> list[Button]:
    """The buttons of ``actions`` blocks and section accessories."""
    found: list[Button] = []
    for block in blocks:
        candidates: list[Any] = []
        if block.get("type") == "actions":
            candidates = list(block.get("elements", []))
        elif isinstance(block.get("accessory"), Mapping):
            candidates = [block["accessory"]]
        for element in candidates:
            if not isinstance(element, Mapping) or element.get("type") != "button":
                continue
            found.append(
                Button(
                    label=text_object(element.get("text"), names),
                    action_id=str(element.get("action_id", "")),
                    block_id=str(block.get("block_id", "")),
                    value=element.get("value"),
                    confirm=element.get("confirm"),
                    url=element.get("url"),
                )
            )
    return found


def render_confirm(confirm: Mapping[str, Any], names: Names | None = None) -> str:
    """A button's confirmation dialog, framed like a message."""
    title = text_object(confirm.get("title"), names) or "¿Confirmar?"
    yes = text_object(confirm.get("confirm"), names) or "Confirmar"
    no = text_object(confirm.get("deny"), names) or "Cancelar"
    body = text_object(confirm.get("text"), names).split("\n")
    lines = [f"┌─ {title}", *(BAR + line for line in body), BAR + f"[{yes}]  [{no}]", "└─"]
    return "\n".join(lines)


def confirm_labels(confirm: Mapping[str, Any], names: Names | None = None) -> tuple[str, str]:
    """The confirm and deny labels of a confirmation dialog."""
    yes = text_object(confirm.get("confirm"), names) or "Confirmar"
    no = text_object(confirm.get("deny"), names) or "Cancelar"
    return yes, no


# --- modals ----------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """One option of a radio or select input."""

    value: str
    text: str
    description: str | None = None
    group: str | None = None


@dataclass(frozen=True)
class Prompt:
    """One input block of a modal, as a question in the terminal."""

    block_id: str
    action_id: str
    element_type: str
    label: str
    hint: str | None = None
    placeholder: str | None = None
    optional: bool = False
    dispatch_action: bool = False
    choices: tuple[Choice, ...] = ()
    #: The prefilled value: ``initial_value``, or the value(s) of the initial option(s).
    default: Value = None
    min_length: int | None = None
    max_length: int | None = None

    @property
    def is_choice(self) -> bool:
        """Answered by choosing one option."""
        return self.element_type in CHOICE_TYPES

    @property
    def is_multi(self) -> bool:
        """Answered by choosing any number of options."""
        return self.element_type in MULTI_CHOICE_TYPES

    @property
    def has_choices(self) -> bool:
        """Shows a numbered list of options."""
        return self.is_choice or self.is_multi

    def choice(self, value: str | None) -> Choice | None:
        """The option with ``value``."""
        return next((c for c in self.choices if c.value == value), None)

    def shown(self, value: Value) -> str:
        """How a value of this input reads: options' numbers and texts, or the text."""
        if value is None:
            return ""
        values = (value,) if isinstance(value, str) else value
        if not self.has_choices:
            return ", ".join(values)
        shown = []
        for wanted in values:
            for number, choice in enumerate(self.choices, start=1):
                if choice.value == wanted:
                    shown.append(f"{number}: {choice.text}")
                    break
            else:
                shown.append(wanted)
        return "; ".join(shown)


@dataclass(frozen=True)
class ModalForm:
    """A modal as the demo asks it: title, buttons, notes (non-input blocks), prompts."""

    view_id: str | None
    title: str
    submit: str | None
    close: str | None
    notes: tuple[str, ...]
    prompts: tuple[Prompt, ...]
    #: Input blocks the demo cannot ask (their initial value is submitted as is).
    unsupported: tuple[str, ...] = ()

    def prompt(self, block_id: str) -> Prompt:
        """The prompt for ``block_id`` (KeyError when there is none)."""
        for prompt in self.prompts:
            if prompt.block_id == block_id:
                return prompt
        raise KeyError(block_id)

    def block_ids(self) -> list[str]:
        """The prompts' block ids, in order."""
        return [p.block_id for p in self.prompts]


def _choice(option: Mapping[str, Any], group: str | None, names: Names) -> Choice:
    description = option.get("description")
    return Choice(
        value=str(option.get("value", "")),
        text=text_object(option.get("text"), names),
        description=text_object(description, names) if description else None,
        group=group,
    )


def _choices(element: Mapping[str, Any], names: Names) -> tuple[Choice, ...]:
    choices = [_choice(o, None, names) for o in element.get("options") or []]
    for group in element.get("option_groups") or []:
        label = text_object(group.get("label"), names)
        choices.extend(_choice(o, label, names) for o in group.get("options") or [])
    return tuple(choices)


def _default(element: Mapping[str, Any]) -> Value:
    if element.get("type") in CHOICE_TYPES:
        initial = element.get("initial_option")
        return str(initial["value"]) if isinstance(initial, Mapping) else None
    if element.get("type") in MULTI_CHOICE_TYPES:
        chosen = tuple(
            str(option["value"])
            for option in element.get("initial_options") or []
            if isinstance(option, Mapping) and "value" in option
        )
        return chosen or None
    for key in ("initial_value", "initial_email", "initial_url"):
        if element.get(key) not in (None, ""):
            return str(element[key])
    return None


def modal_form(view: Mapping[str, Any], names: Names | None = None) -> ModalForm:
    """The prompts (and notes) of a modal view, in block order."""
    names = names or Names()
    prompts: list[Prompt] = []
    notes: list[str] = []
    unsupported: list[str] = []
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            notes.append("\n".join(render_block(block, names)))
            continue
        element = block.get("element") or {}
        kind = str(element.get("type", ""))
        label = text_object(block.get("label"), names)
        if kind not in CHOICE_TYPES | MULTI_CHOICE_TYPES | TEXT_TYPES:
            unsupported.append(label)
            continue
        hint = block.get("hint")
        placeholder = element.get("placeholder")
        prompts.append(
            Prompt(
                block_id=str(block.get("block_id", "")),
                action_id=str(element.get("action_id", "")),
                element_type=kind,
                label=label,
                hint=text_object(hint, names) if hint else None,
                placeholder=text_object(placeholder, names) if placeholder else None,
                optional=bool(block.get("optional", False)),
                dispatch_action=bool(block.get("dispatch_action", False)),
                choices=_choices(element, names),
                default=_default(element),
                min_length=element.get("min_length"),
                max_length=element.get("max_length"),
            )
        )
    return ModalForm(
        view_id=view.get("id"),
        title=text_object(view.get("title"), names),
        submit=text_object(view.get("submit"), names) if view.get("submit") else None,
        close=text_object(view.get("close"), names) if view.get("close") else None,
        notes=tuple(notes),
        prompts=tuple(prompts),
        unsupported=tuple(unsupported),
    )


def render_modal_intro(form: ModalForm) -> str:
    """The modal's frame: title, buttons, notes, and how to answer."""
    buttons = "  ".join(f"[{b}]" for b in (form.submit, form.close) if b)
    lines = [f"┌─ Formulario «{form.title}»" + (f"   {buttons}" if buttons else "")]
    for note in form.notes:
        lines.extend(BAR + line for line in note.split("\n"))
    for label in form.unsupported:
        lines.append(BAR + f"({label}: la demo no puede completar este campo; queda como está)")
    lines.append(
        BAR + "(Enter deja el valor propuesto entre corchetes; «!cancelar» cierra sin enviar)"
    )
    lines.append("└─")
    return "\n".join(lines)


def render_notes(form: ModalForm) -> str:
    """Only the modal's notes (after Slack updated the view)."""
    return "\n".join(BAR + line for note in form.notes for line in note.split("\n"))


def render_prompt(prompt: Prompt, *, error: str | None = None) -> str:
    """The question for one field: label, hint, options, and an inline error under it."""
    label = prompt.label + (" (opcional)" if prompt.optional else "")
    lines = [f"▸ {label}"]
    if prompt.hint:
        lines.append(f"    {prompt.hint}")
    if prompt.is_multi and len(prompt.choices) > 1:
        lines.append("    (se puede marcar más de una: números separados por comas)")
    if prompt.has_choices:
        group: str | None = None
        width = len(str(len(prompt.choices)))
        for number, choice in enumerate(prompt.choices, start=1):
            if choice.group is not None and choice.group != group:
                group = choice.group
                lines.append(f"    {group}")
            indent = "      " if choice.group is not None else "    "
            text = f"{indent}{number:>{width}}) {choice.text}"
            if choice.description:
                text += f" ({choice.description})"
            lines.append(text)
    if error:
        lines.append(f"    ⚠ {error}")
    return "\n".join(lines)


def prompt_line(prompt: Prompt, current: Value) -> str:
    """What the input line says before the cursor."""
    if current is not None:
        suffix = ", «-» lo borra" if prompt.optional else ""
        return f"{prompt.label} [{prompt.shown(current)}{suffix}]: "
    if prompt.is_multi and len(prompt.choices) == 1:
        empty = ", Enter lo deja sin marcar" if prompt.optional else ""
        return f"{prompt.label} («s» o 1 para marcarla{empty}): "
    if prompt.optional:
        return f"{prompt.label} (Enter para dejarlo vacío): "
    if prompt.is_multi:
        return f"{prompt.label} (números separados por comas): "
    if prompt.is_choice:
        return f"{prompt.label} (número u opción): "
    if prompt.placeholder:
        return f"{prompt.label} (p. ej. {prompt.placeholder}): "
    return f"{prompt.label}: "


@dataclass(frozen=True)
class Answer:
    """A parsed answer: the new value (None = empty), or why the line was refused."""

    value: Value = None
    error: str | None = None


_YES_WORDS: Final = frozenset({"s", "si", "y", "yes", "x"})

REQUIRED_FIELD: Final = "Este campo es obligatorio."


def _match_choice(prompt: Prompt, typed: str) -> Choice | None:
    if typed.isdigit():
        number = int(typed)
        return prompt.choices[number - 1] if 1 <= number <= len(prompt.choices) else None
    wanted = fold(typed)
    exact = [c for c in prompt.choices if wanted in (fold(c.text), fold(c.value))]
    if exact:
        return exact[0]
    for test in (str.startswith, str.__contains__):
        found = [c for c in prompt.choices if test(fold(c.text), wanted)]
        if len(found) == 1:
            return found[0]
    return None


def _parse_multi(prompt: Prompt, typed: str) -> Answer:
    if len(prompt.choices) == 1 and fold(typed) in _YES_WORDS:
        return Answer(value=(prompt.choices[0].value,))
    chosen: list[str] = []
    for token in (t.strip() for t in typed.split(",")):
        if not token:
            continue
        choice = _match_choice(prompt, token)
        if choice is None:
            return Answer(
                error=f"Marcar opciones por número (1 a {len(prompt.choices)}), "
                "separadas por comas."
            )
        if choice.value not in chosen:
            chosen.append(choice.value)
    if not chosen:
        return Answer(error=REQUIRED_FIELD)
    return Answer(value=tuple(chosen))


def parse_answer(prompt: Prompt, line: str, current: Value) -> Answer:
    """Read one typed line as the answer to ``prompt``; Enter keeps ``current``.

    Mirrors what Slack's client checks before it submits: required fields, options
    that exist, e-mail shape, length limits. Everything else is the bot's to judge.
    """
    typed = line.strip()
    if not typed:
        if current is None and not prompt.optional:
            return Answer(error=REQUIRED_FIELD)
        return Answer(value=current)
    if typed == "-":
        if not prompt.optional:
            return Answer(error=REQUIRED_FIELD)
        return Answer(value=None)
    if prompt.is_choice:
        choice = _match_choice(prompt, typed)
        if choice is None:
            return Answer(
                error=f"Elegir un número de la lista (1 a {len(prompt.choices)}) "
                "o escribir una de las opciones."
            )
        return Answer(value=choice.value)
    if prompt.is_multi:
        return _parse_multi(prompt, typed)
    if prompt.element_type == "email_text_input" and not _EMAIL_SHAPE.fullmatch(typed):
        return Answer(error="Escribir un correo válido.")
    if prompt.min_length is not None and len(typed) < prompt.min_length:
        return Answer(error=f"Escribir al menos {prompt.min_length} caracteres.")
    if prompt.max_length is not None and len(typed) > prompt.max_length:
        return Answer(error=f"Escribir como máximo {prompt.max_length} caracteres.")
    return Answer(value=typed)


def state_entry(prompt: Prompt, value: Value) -> JsonDict:
    """The ``state.values[block_id][action_id]`` entry Slack sends for this input."""
    if prompt.is_multi:
        values = (value,) if isinstance(value, str) else (value or ())
        options = [(v, c.text if (c := prompt.choice(v)) else v) for v in values]
        entry = checkboxes_value(options)
        entry["type"] = prompt.element_type
        return entry
    if isinstance(value, tuple):
        value = ",".join(value)
    text = None
    if prompt.is_choice and value is not None:
        choice = prompt.choice(value)
        text = choice.text if choice else None
    if prompt.element_type == "radio_buttons":
        return radio_value(value, text)
    if prompt.element_type == "static_select":
        return static_select_value(value, text)
    if prompt.element_type == "email_text_input":
        return email_value(value)
    if prompt.element_type == "plain_text_input":
        return plain_text_value(value)
    return {"type": prompt.element_type, "value": value}


def state_values(
    prompts: Iterable[Prompt], answers: Mapping[str, Value]
) -> dict[str, dict[str, JsonDict]]:
    """The modal's ``state.values``: answers where given, prefilled values elsewhere."""
    return {
        p.block_id: {p.action_id: state_entry(p, answers.get(p.block_id, p.default))}
        for p in prompts
    }


def action_entry(prompt: Prompt, value: str) -> JsonDict:
    """The ``actions[0]`` of the ``block_actions`` Slack sends when this input dispatches."""
    choice = prompt.choice(value)
    text = choice.text if choice else None
    if prompt.element_type == "radio_buttons":
        return radio_action(prompt.action_id, value, text, block_id=prompt.block_id)
    if prompt.element_type == "static_select":
        return static_select_action(prompt.action_id, value, text, block_id=prompt.block_id)
    return {
        "type": prompt.element_type,
        "action_id": prompt.action_id,
        "block_id": prompt.block_id,
        "value": value,
    }


def render_errors(form: ModalForm, errors: Mapping[str, str]) -> str:
    """Inline errors from ``response_action: errors``, each under its field's label."""
    lines = ["┌─ El formulario no se envió: corregir lo marcado"]
    labels = {p.block_id: p.label for p in form.prompts}
    for block_id, message in errors.items():
        lines.append(BAR + f"{labels.get(block_id, block_id)}")
        lines.append(BAR + f"  ⚠ {message}")
    lines.append("└─")
    return "\n".join(lines)
