"""Rendering many emails (or table rows) of one kind: each *shape* rendered once, the values filled in.

Used by the reminder job (thousands of emails of two kinds) and the Permissions list
(fifty rows a page). An email's shape is everything its templates decide: which branches they take, how
often each loop runs, every number and date they show, the language. Within one
shape the output differs only in the texts shown (names, scopes, addresses...). So
the templates are rendered once per shape with *probes* in place of the context:
each text comes out as a numbered marker, and every further email of that shape is
the cached output with its own texts put in place of the markers, escaped exactly
where the template escaped them (the marker carries an ``&`` that escaping turns
into ``&amp;``).

Which decisions make a shape is learnt while rendering: a probe records every
truth test, length and equality asked of it, with the path from the context to the
value (``authorizations[2].authorization.user``). The recorded decisions form a
tree; a new email walks it by asking the same questions of its own context and
lands on its shape, or on a branch not rendered yet.

It is byte-for-byte the output of Django's rendering as long as templates only
show, test and loop over values. Three guards keep it so: templates using a filter
other than the few that only test a value are rendered normally; a probe asked
anything else (ordering, arithmetic, membership) spoils its shape, which is then
rendered normally; and the first email of every shape is also rendered normally and
compared, a shape that differs being rendered normally from then on.
"""

import datetime
import html
import logging
import re
import threading
from collections.abc import Callable
from decimal import Decimal

from django.template.loader import get_template

logger = logging.getLogger("reconi.notifications")

# Filters that only test or pass on a value; any other may transform a text, which a marker cannot follow.
ALLOWED_FILTERS = frozenset({"default", "default_if_none", "length"})
_FILTER = re.compile(r"\|\s*(\w+)")
_TEMPLATE_REFERENCE = re.compile(r"{%\s*(?:extends|include)\s+[\"']([^\"']+)[\"']")
_MARKER = re.compile("\ue000(\\d+)(&amp;|&)\ue001")
# Values the templates may format themselves (numbers, dates): they are part of the shape, not filled in.
_LITERALS = (bool, int, float, Decimal, datetime.date, datetime.time, datetime.timedelta, type(None))


class _Spoiled(Exception):
    """A probe was asked something a shape cannot answer for every email."""


def _step(value, step):
    kind, arg = step
    if kind == "item":
        return value[arg]
    if kind == "attr":
        return getattr(value, arg)
    if kind == "call":
        return value() if callable(value) else value
    return value[arg] if isinstance(value, list | tuple) else list(value)[arg]  # "index": a loop's n-th item


def _resolve(context: dict, path: tuple):
    value = context
    for step in path:
        value = _step(value, step)
    return value


def _ask(question: str, value, other=None):
    if question == "bool":
        return bool(value)
    if question == "len":
        return len(value)
    return value == other  # "eq"


class _Recording:
    def __init__(self):
        self.decisions: list[tuple[tuple, str, object, object]] = []  # (path, question, other, answer)
        self.texts: list[tuple] = []  # marker number -> path of the text
        self.spoiled = False


class _Probe:
    """Stands in for one value of the context while a shape is rendered."""

    __slots__ = ("_path", "_real", "_recording")

    def __init__(self, real, path: tuple, recording: _Recording):
        object.__setattr__(self, "_real", real)
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_recording", recording)

    def _child(self, step):
        real = _step(self._real, step)  # raises as the real lookup would: Django tries the next kind
        return _wrap(real, self._path + (step,), self._recording)

    def _decide(self, question: str, other=None):
        answer = _ask(question, self._real, other)
        self._recording.decisions.append((self._path, question, other, answer))
        return answer

    def _spoil(self, *args, **kwargs):
        self._recording.spoiled = True
        raise _Spoiled(self._path)

    def __getitem__(self, key):
        return self._child(("item", key))

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._child(("attr", name))

    def __call__(self):
        # Django calls every callable it resolves; a probe is always callable, so a plain value stays itself.
        return self._child(("call", None)) if callable(self._real) else self

    def __iter__(self):
        for index in range(self._decide("len")):
            yield self._child(("index", index))

    def __len__(self):
        return self._decide("len")

    def __bool__(self):
        return self._decide("bool")

    def __eq__(self, other):
        if isinstance(other, _Probe):
            self._spoil()
        return self._decide("eq", other)

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return id(self)

    def __str__(self):
        number = len(self._recording.texts)
        self._recording.texts.append(self._path)
        return f"\ue000{number}&\ue001"

    __lt__ = __le__ = __gt__ = __ge__ = __contains__ = __add__ = __radd__ = __sub__ = __mul__ = _spoil
    __int__ = __float__ = __index__ = __format__ = __mod__ = _spoil


def _wrap(real, path: tuple, recording: _Recording):
    if isinstance(real, _LITERALS):
        recording.decisions.append((path, "eq", real, True))
        return real
    return _Probe(real, path, recording)


def _path_tree(paths: list[tuple]) -> dict:
    """The paths as a tree, {step: (subtree, indices of the paths ending there)}: shared prefixes looked up once."""
    root: dict = {}
    for index, path in enumerate(paths):
        node = root
        for step in path[:-1]:
            node = node.setdefault(step, ({}, []))[0]
        node.setdefault(path[-1], ({}, []))[1].append(index)
    return root


def _look_up(value, tree: dict, found: list) -> None:
    for step, (subtree, indices) in tree.items():
        child = _step(value, step)
        for index in indices:
            found[index] = child
        if subtree:
            _look_up(child, subtree, found)


class _Shape:
    __slots__ = ("outputs", "texts", "tree", "direct")

    def __init__(self, outputs: tuple[str, ...], texts: list[tuple], direct: bool):
        self.outputs = outputs
        self.texts = texts
        self.tree = _path_tree(texts)
        self.direct = direct

    def fill(self, context: dict) -> tuple[str, ...]:
        values: list = [None] * len(self.texts)
        _look_up(context, self.tree, values)

        def put(match):
            value = values[int(match.group(1))]
            if match.group(2) == "&":
                return str(value)
            # django.utils.html.conditional_escape, without the lazy-string wrapper it pays per call
            return str(value.__html__()) if hasattr(value, "__html__") else html.escape(str(value))

        return tuple(_MARKER.sub(put, output) for output in self.outputs)


class _Node:
    """A decision of the tree: a question about one path, and what follows each answer."""

    __slots__ = ("path", "question", "other", "branches", "shape")

    def __init__(self):
        self.path = None
        self.branches: dict = {}
        self.shape: _Shape | None = None


def _filters_used(template_name: str, seen: set | None = None) -> set[str]:
    seen = set() if seen is None else seen
    if template_name in seen:
        return set()
    seen.add(template_name)
    source = get_template(template_name).template.source
    used = set(_FILTER.findall(source))
    for referenced in _TEMPLATE_REFERENCE.findall(source):
        used |= _filters_used(referenced, seen)
    return used


class ShapeRenderer:
    """Renders ``render(context) -> tuple of strings`` for many contexts, each shape once.

    ``render`` must be a pure function of the context (the language fixed around it);
    ``template_names`` are the templates it renders, checked for the allowed filters.
    """

    def __init__(self, render: Callable[[dict], tuple[str, ...]], template_names: list[str]):
        self.render = render
        self.root = _Node()
        self._learning = threading.Lock()  # one thread grows the tree at a time; walking it needs no lock
        self.shapes = 0  # shapes learnt
        self.fallbacks = 0  # of which rendered normally: a probe was spoiled, or the check differed
        self.usable = all(_filters_used(name) <= ALLOWED_FILTERS for name in template_names)
        if not self.usable:
            logger.info("Shape rendering off for %s: a filter other than %s", template_names, sorted(ALLOWED_FILTERS))

    def __call__(self, context: dict) -> tuple[str, ...]:
        if not self.usable:
            return self.render(context)
        node, depth = self.root, 0
        while node.path is not None:
            answer = _ask(node.question, _resolve(context, node.path), node.other)
            node, depth = node.branches.setdefault(answer, _Node()), depth + 1
        if node.shape is None:
            with self._learning:
                return self._learn_once(context)
        if node.shape.direct:
            return self.render(context)
        return node.shape.fill(context)

    def _learn_once(self, context: dict) -> tuple[str, ...]:
        """Walk again under the lock: another thread may have learnt this shape meanwhile."""
        node, depth = self.root, 0
        while node.path is not None:
            answer = _ask(node.question, _resolve(context, node.path), node.other)
            node, depth = node.branches.setdefault(answer, _Node()), depth + 1
        if node.shape is not None:
            return self.render(context) if node.shape.direct else node.shape.fill(context)
        return self._learn(node, depth, context)

    def _learn(self, leaf: _Node, depth: int, context: dict) -> tuple[str, ...]:
        """Render the shape with probes, grow the tree along its decisions, and check it once."""
        recording = _Recording()
        probes = {key: _wrap(value, (("item", key),), recording) for key, value in context.items()}
        try:
            outputs = self.render(probes)
        except Exception:  # noqa: BLE001 - whatever a probe cannot do, the normal rendering does
            recording.spoiled = True
            outputs = ()
        expected = self.render(context)
        # The walk answered the first ``depth`` decisions; the ones after hang below the leaf it reached.
        node = leaf
        for path, question, other, answer in recording.decisions[depth:]:
            node.question, node.other = question, other
            node.path = path  # last: a walker in another thread reads the path first
            node = node.branches.setdefault(answer, _Node())
        shape = _Shape(outputs, recording.texts, direct=recording.spoiled)
        if not shape.direct and shape.fill(context) != expected:
            logger.warning("Shape rendering differs from Django's for one shape; rendering it normally")
            shape.direct = True
        node.shape = shape
        self.shapes += 1
        self.fallbacks += shape.direct
        return expected
