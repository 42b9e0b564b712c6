"""Find `StaticImage(...)` calls in Jinja templates and evaluate their arguments.

Two parts:

* `scan_template` — the scanner: Jinja's own parser finds the calls (so custom delimiters,
  line statements and extensions work exactly as they do at render time), and a small
  evaluator turns each argument into a constant or an `Unresolved` saying why it has none.
  Jinja's AST only carries line numbers, so exact spans come from the locator in
  `jinja_source`, checked against the AST.
* the evaluator — constant evaluation over Jinja nodes, in the manner of `Node.as_const()`,
  but resolving names bound once by `{% set %}` before the call and in a scope that
  encloses it.

Nothing here may raise on any input: a template ends as calls with (possibly unresolved)
arguments, or as one SI111 diagnostic.
"""

from __future__ import annotations

import copy
import enum
import operator
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, TemplateSyntaxError, nodes

from staticimg.compiler.diagnostics import Diagnostic, Span
from staticimg.compiler.scan.calls import Arg, ArgKind, FileScan, FoundCall, Unresolved
from staticimg.compiler.scan.evaluate import (
    MAX_STRING,
    Impossible,
    binary,
    check_size,
    check_weight,
    kind_of,
    subscript,
    unary,
)
from staticimg.compiler.scan.jinja_source import (
    DEFAULT_CALLEES,
    NEWLINE,
    ArgSyntax,
    CallSite,
    LocateError,
    locate_calls,
)

__all__ = ["DEFAULT_CALLEES", "scan_template"]


HINT_CONSTANT = (
    "Build props must be known when the site is built: write the value in the template, or "
    "`{% set %}` it once at the top of the template, before the call. Values known only at "
    "render time can go to rendering props such as `alt` or `class_name`."
)
HINT_OPERATORS = (
    "Write the value as a literal, or compute it with operators only "
    "(`~`, `+`, `-`, `*`, `/`, `%`, indexing) on literals and `{% set %}` names."
)


# --------------------------------------------------------------------------------------------
# The scanner
# --------------------------------------------------------------------------------------------


def scan_template(
    source: str,
    file: str,
    env: Environment,
    callees: frozenset[str] = DEFAULT_CALLEES,
) -> FileScan:
    """Every call to one of `callees` in `source`, with each argument evaluated if it can be.

    `file` is the project-relative POSIX path (it names the results); `env` is the
    Environment the project renders with, so its delimiters, line statements and extensions
    are the ones that apply. A template that binds a callee name itself (a macro, an import,
    a `{% set %}`, a parameter) calls that, not the global, and its calls are not reported.
    """
    try:
        template = env.parse(source, name=file)
    except TemplateSyntaxError as exc:
        return _syntax_error(source, file, exc.message or str(exc), exc.lineno)
    except RecursionError:
        return _syntax_error(source, file, "the template is nested too deeply to parse", None)
    except Exception as exc:  # an extension's parser may raise anything; never crash the build
        return _syntax_error(source, file, f"the template could not be parsed: {exc!r}", None)
    try:
        return _scan_parsed(template, source, file, env, callees)
    except Exception as exc:  # a last guard: an unusual extension node must not stop the build
        message = f"the template could not be analysed: {exc!r}"
        return _syntax_error(source, file, message, None)


def _scan_parsed(
    template: nodes.Template,
    source: str,
    file: str,
    env: Environment,
    callees: frozenset[str],
) -> FileScan:
    index = _TemplateIndex(template)
    calls = [call for call in index.calls if _callee_name(call) in callees]
    sites = _aligned_sites(source, env, file, callees, calls)
    evaluator = _Evaluator(index)
    found = []
    for position, call in enumerate(calls):
        callee = _callee_name(call)
        if callee is None or index.bindings.get(callee):
            # The template binds the name itself (a macro, an import, a `{% set %}`, a
            # parameter): the call goes to that, not to the StaticImage global.
            continue
        site = sites[position] if sites is not None else None
        found.append(_found_call(file, callee, call, site, evaluator))
    return FileScan(file, tuple(found), ())


def _syntax_error(source: str, file: str, message: str, lineno: int | None) -> FileScan:
    lines = NEWLINE.split(source)[::2]
    line = min(max(lineno or 1, 1), len(lines))
    # Jinja reports no column: underline the whole line so a code frame shows where to look.
    span = Span(line, 1, line, len(lines[line - 1]) + 1)
    hint = "Fix the template so that Jinja can parse it; no image in it is built until then."
    diagnostic = Diagnostic("SI111", message, file, span, hint=hint)
    return FileScan(file, (), (diagnostic,))


def _callee_name(call: nodes.Call) -> str | None:
    return call.node.name if isinstance(call.node, nodes.Name) else None


def _aligned_sites(
    source: str,
    env: Environment,
    file: str,
    callees: frozenset[str],
    calls: Sequence[nodes.Call],
) -> Sequence[CallSite] | None:
    """The located site of each call, or None when the token walk and the AST disagree.

    Disagreement is possible (an extension that rewrites the source or the token stream),
    so it is checked rather than assumed; then every span falls back to its line, column 1.
    """
    try:
        sites = locate_calls(source, env, callees, name=file)
    except LocateError:
        return None
    if len(sites) != len(calls):
        return None
    for site, call in zip(sites, calls, strict=True):
        if site.callee != _callee_name(call) or site.name.span.line != call.node.lineno:
            return None
        if _syntax_of(site) != _syntax_of_call(call):
            return None
    return sites


def _syntax_of(site: CallSite) -> tuple[int, tuple[str | None, ...], bool, bool]:
    kinds = [arg.syntax for arg in site.args]
    keywords = tuple(arg.keyword for arg in site.args if arg.syntax is ArgSyntax.KEYWORD)
    return (
        kinds.count(ArgSyntax.POSITIONAL),
        keywords,
        ArgSyntax.STAR in kinds,
        ArgSyntax.DOUBLE_STAR in kinds,
    )


def _syntax_of_call(call: nodes.Call) -> tuple[int, tuple[str | None, ...], bool, bool]:
    keywords = tuple(keyword.key for keyword in call.kwargs)
    return (len(call.args), keywords, call.dyn_args is not None, call.dyn_kwargs is not None)


def _line_only(node: nodes.Node) -> Span:
    line = node.lineno or 1
    return Span(line, 1, line, 1)


def _found_call(
    file: str,
    callee: str,
    call: nodes.Call,
    site: CallSite | None,
    evaluator: _Evaluator,
) -> FoundCall:
    arg_sites = list(site.args) if site is not None else []

    def span_of(syntax: ArgSyntax, nth: int, node: nodes.Node) -> Span:
        matching = [arg for arg in arg_sites if arg.syntax is syntax]
        return matching[nth].value.span if nth < len(matching) else _line_only(node)

    args: list[Arg] = []
    for index, expr in enumerate(call.args):
        span = span_of(ArgSyntax.POSITIONAL, index, expr)
        value = evaluator.argument(expr, call, span)
        args.append(Arg(ArgKind.POSITIONAL, None, index, span, value))
    for nth, keyword in enumerate(call.kwargs):
        span = span_of(ArgSyntax.KEYWORD, nth, keyword.value)
        value = evaluator.argument(keyword.value, call, span)
        args.append(Arg(ArgKind.KEYWORD, keyword.key, -1, span, value))
    if call.dyn_args is not None:
        span = span_of(ArgSyntax.STAR, 0, call.dyn_args)
        reason = "`*` arguments are not supported: StaticImage takes its props by keyword"
        unresolved = Unresolved(reason, span, "Pass each prop as `name=value`.")
        args.append(Arg(ArgKind.SPREAD, None, -1, span, unresolved))
    if call.dyn_kwargs is not None:
        span = span_of(ArgSyntax.DOUBLE_STAR, 0, call.dyn_kwargs)
        args.extend(evaluator.spread(call.dyn_kwargs, call, span))
    if site is not None:
        span, name_span = site.call.span, site.name.span
    else:
        span = name_span = _line_only(call.node)
    return FoundCall(file, callee, span, name_span, tuple(args))


# --------------------------------------------------------------------------------------------
# The template index: source order, parents, and every name binding
# --------------------------------------------------------------------------------------------


class _BindingKind(enum.Enum):
    """How a name is bound, with the reason given when it is used as a build prop."""

    SET = "is set by `{% set %}`"
    SET_BLOCK = "is set by a `{% set %}...{% endset %}` block, which captures rendered output"
    FOR = "is a for-loop variable"
    MACRO_PARAMETER = "is a macro parameter"
    CALL_PARAMETER = "is a parameter of a `{% call %}` block"
    WITH = "is a `{% with %}` variable"
    MACRO = "is a macro"
    IMPORT = "is an imported template"
    FROM_IMPORT = "is imported from another template"
    OTHER = "is bound by a template statement"


_BINDING_HINTS: dict[_BindingKind, str] = {
    _BindingKind.FOR: (
        "A StaticImage is built once, not once per loop iteration: write one call per image "
        "with literal props."
    ),
    _BindingKind.MACRO_PARAMETER: (
        "Macro arguments are only known when the macro is called, at render time: write the "
        "build props as literals in the StaticImage call."
    ),
    _BindingKind.SET_BLOCK: "Use `{% set name = value %}` with a constant value instead.",
}


# Bindings that open a scope of their own around the code that uses them.
_SCOPE_KINDS = frozenset(
    {
        _BindingKind.FOR,
        _BindingKind.MACRO_PARAMETER,
        _BindingKind.CALL_PARAMETER,
        _BindingKind.WITH,
    }
)

# Which statement field a stored Name sits in says how it is bound.
_BINDING_FIELDS: dict[tuple[type[nodes.Node], str], _BindingKind] = {
    (nodes.Assign, "target"): _BindingKind.SET,
    (nodes.AssignBlock, "target"): _BindingKind.SET_BLOCK,
    (nodes.For, "target"): _BindingKind.FOR,
    (nodes.Macro, "args"): _BindingKind.MACRO_PARAMETER,
    (nodes.CallBlock, "args"): _BindingKind.CALL_PARAMETER,
    (nodes.With, "targets"): _BindingKind.WITH,
}


@dataclass(frozen=True, slots=True)
class _Binding:
    name: str
    kind: _BindingKind
    statement: nodes.Node  # the `{% set %}`, `{% for %}`, `{% macro %}`, ... that binds it
    value: nodes.Node | None = None  # a plain `{% set %}`'s expression
    # For `{% set a, (b, c) = ... %}`: (index, length) at each level of unpacking.
    unpack: tuple[tuple[int, int], ...] = ()


# Jinja lays some fields out in a different order from the source text (`a if b else c` is
# CondExpr(test=b, expr1=a, expr2=c)). Calls must be visited in source order to match the
# lexer's, and `{% set %}` before use is judged by the same order.
_SOURCE_ORDER: dict[type[nodes.Node], tuple[str, ...]] = {
    nodes.CondExpr: ("expr1", "test", "expr2"),
    nodes.For: ("target", "iter", "test", "body", "else_"),
    nodes.CallBlock: ("args", "defaults", "call", "body"),
    nodes.FilterBlock: ("filter", "body"),
    nodes.AssignBlock: ("target", "filter", "body"),
}

# `{% if %}` does not open a new scope in Jinja: a `{% set %}` inside one is template-level.
_TEMPLATE_LEVEL = (nodes.Template, nodes.If)


def _children(node: nodes.Node) -> Iterator[tuple[str, nodes.Node]]:
    """(field, child) pairs in source order."""
    fields = _SOURCE_ORDER.get(type(node))
    pairs = ((f, getattr(node, f, None)) for f in fields) if fields else node.iter_fields()
    for field, value in pairs:
        if isinstance(value, nodes.Node):
            yield field, value
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, nodes.Node):
                    yield field, item


class _TemplateIndex:
    """One iterative walk (deep templates must not hit the recursion limit) that records
    every node's source order and parent, every Call, and every name binding."""

    def __init__(self, template: nodes.Template) -> None:
        self.order: dict[int, int] = {}
        self.parent: dict[int, tuple[nodes.Node, str]] = {}
        self.calls: list[nodes.Call] = []
        self.bindings: dict[str, list[_Binding]] = {}
        stack: list[nodes.Node] = [template]
        while stack:
            node = stack.pop()
            self.order[id(node)] = len(self.order)
            self._record(node)
            children = list(_children(node))
            # Parent links are set before a child is popped, so `_record` can walk upwards.
            for field, child in reversed(children):
                self.parent[id(child)] = (node, field)
                stack.append(child)

    def _record(self, node: nodes.Node) -> None:
        if isinstance(node, nodes.Call):
            self.calls.append(node)
        elif isinstance(node, nodes.Name) and node.ctx in ("store", "param"):
            self._bind(self._binding_of(node))
        elif isinstance(node, nodes.Macro):
            self._bind(_Binding(node.name, _BindingKind.MACRO, node))
        elif isinstance(node, nodes.Import):
            self._bind(_Binding(node.target, _BindingKind.IMPORT, node))
        elif isinstance(node, nodes.FromImport):
            for entry in node.names:
                alias = entry if isinstance(entry, str) else entry[1]
                self._bind(_Binding(alias, _BindingKind.FROM_IMPORT, node))

    def _bind(self, binding: _Binding) -> None:
        self.bindings.setdefault(binding.name, []).append(binding)

    def _binding_of(self, name: nodes.Name) -> _Binding:
        """Classify a stored Name by the statement that binds it, through tuple targets."""
        unpack: list[tuple[int, int]] = []
        child: nodes.Node = name
        parent, field = self.parent[id(name)]
        while isinstance(parent, nodes.Tuple):
            unpack.append((_identity_index(parent.items, child), len(parent.items)))
            child = parent
            parent, field = self.parent[id(parent)]
        unpack.reverse()
        kind = _BINDING_FIELDS.get((type(parent), field), _BindingKind.OTHER)
        if kind is _BindingKind.SET and isinstance(parent, nodes.Assign):
            return _Binding(name.name, kind, parent, parent.node, tuple(unpack))
        return _Binding(name.name, kind, parent)

    def container_path(self, node: nodes.Node) -> list[tuple[nodes.Node, str]]:
        """The (ancestor, field) pairs from the template root down to `node`'s parent."""
        path = []
        while id(node) in self.parent:
            node, field = self.parent[id(node)]
            path.append((node, field))
        path.reverse()
        return path


def _identity_index(items: Sequence[nodes.Node], item: nodes.Node) -> int:
    # Jinja nodes compare by value, so two `a` targets would be equal: compare identity.
    return next(i for i, candidate in enumerate(items) if candidate is item)


# --------------------------------------------------------------------------------------------
# The evaluator
# --------------------------------------------------------------------------------------------

_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "gteq": operator.ge,
    "lt": operator.lt,
    "lteq": operator.le,
    "in": lambda a, b: a in b,
    "notin": lambda a, b: a not in b,
}

# Names Jinja provides inside some constructs without a visible binding.
_IMPLICIT_NAMES: dict[str, str] = {
    "loop": "is the for-loop's helper variable",
    "caller": "is the body of a `{% call %}` block, passed to the macro",
    "varargs": "holds a macro's extra positional arguments",
    "kwargs": "holds a macro's extra keyword arguments",
    "self": "is the template's block accessor",
}


class _Evaluator:
    """Constant evaluation of Jinja expressions, resolving `{% set %}` names."""

    def __init__(self, index: _TemplateIndex) -> None:
        self._index = index
        self._memo: dict[int, tuple[bool, Any]] = {}  # id(binding) -> (ok, value | Impossible)
        self._resolving: set[int] = set()

    # The two entry points: a call's argument, and a `**` spread.

    def argument(self, expr: nodes.Node, call: nodes.Call, span: Span) -> Any:
        """The constant value of `expr` (a fresh copy), or an Unresolved at `span`."""
        try:
            value = self.evaluate(expr, call)
            check_weight(value)
            # Name values are memoised and shared: each argument gets its own copy, so that
            # normalising one call's props cannot change another's.
            return copy.deepcopy(value)
        except Impossible as exc:
            return Unresolved(exc.reason, span, exc.hint or HINT_CONSTANT)
        except RecursionError:
            reason = "the expression is nested too deeply to evaluate"
            return Unresolved(reason, span, "Write the value as a literal.")
        except Exception as exc:  # any operator surprise is "not constant", never a crash
            reason = f"the expression could not be evaluated: {exc!r}"
            return Unresolved(reason, span, HINT_OPERATORS)

    def spread(self, expr: nodes.Node, call: nodes.Call, span: Span) -> list[Arg]:
        """`**expr`: one KEYWORD Arg per key when it is a constant mapping of str keys."""
        value = self.argument(expr, call, span)
        problem: str | None = None
        if isinstance(value, Unresolved):
            problem = value.reason
        elif not isinstance(value, dict):
            problem = f"`**` needs a mapping, and this is {_jinja_kind(value)}"
        elif not all(isinstance(key, str) for key in value):
            problem = "`**` needs a mapping with string keys"
        if problem is not None:
            hint = value.hint if isinstance(value, Unresolved) else HINT_CONSTANT
            return [Arg(ArgKind.SPREAD, None, -1, span, Unresolved(problem, span, hint))]
        return [
            Arg(ArgKind.KEYWORD, key, -1, span, item, from_spread=True)
            for key, item in value.items()
        ]

    # The recursive evaluator; `site` is where the expression runs (a Call or a `{% set %}`),
    # which decides which `{% set %}` names are visible.

    def evaluate(self, node: nodes.Node, site: nodes.Node) -> Any:
        handler = _HANDLERS.get(type(node))
        if handler is None:
            raise _not_constant(node)
        return check_size(handler(self, node, site))

    def _const(self, node: nodes.Const, site: nodes.Node) -> Any:
        return node.value

    def _template_data(self, node: nodes.TemplateData, site: nodes.Node) -> Any:
        return node.data

    def _list(self, node: nodes.List, site: nodes.Node) -> Any:
        return [self.evaluate(item, site) for item in node.items]

    def _tuple(self, node: nodes.Tuple, site: nodes.Node) -> Any:
        return tuple(self.evaluate(item, site) for item in node.items)

    def _dict(self, node: nodes.Dict, site: nodes.Node) -> Any:
        result = {}
        for pair in node.items:
            key = self.evaluate(pair.key, site)
            try:
                result[key] = self.evaluate(pair.value, site)
            except TypeError:
                raise Impossible(f"{_jinja_kind(key)} cannot be a dictionary key") from None
        return result

    def _concat(self, node: nodes.Concat, site: nodes.Node) -> Any:
        # `~` stringifies each operand with str(), as Jinja does.
        parts = []
        length = 0
        for operand in node.nodes:
            value = self.evaluate(operand, site)
            check_weight(value)  # str() of a large shared structure must not run away
            parts.append(str(value))
            length += len(parts[-1])
            if length > MAX_STRING:  # as it grows: many long operands add up
                raise Impossible("the concatenation would be too large to be a prop")
        return "".join(parts)

    def _binary(self, node: nodes.BinExpr, site: nodes.Node) -> Any:
        left = self.evaluate(node.left, site)
        right = self.evaluate(node.right, site)
        return binary(node.operator, left, right)

    def _and(self, node: nodes.And, site: nodes.Node) -> Any:
        # Short-circuits like Jinja: `false and anything` is false without looking right.
        left = self.evaluate(node.left, site)
        return self.evaluate(node.right, site) if left else left

    def _or(self, node: nodes.Or, site: nodes.Node) -> Any:
        left = self.evaluate(node.left, site)
        return left if left else self.evaluate(node.right, site)

    def _unary(self, node: nodes.UnaryExpr, site: nodes.Node) -> Any:
        return unary(node.operator, self.evaluate(node.node, site))

    def _cond(self, node: nodes.CondExpr, site: nodes.Node) -> Any:
        if self.evaluate(node.test, site):
            return self.evaluate(node.expr1, site)
        if node.expr2 is None:
            raise Impossible(
                "the condition is false and there is no `else`: the value is undefined"
            )
        return self.evaluate(node.expr2, site)

    def _compare(self, node: nodes.Compare, site: nodes.Node) -> Any:
        value = self.evaluate(node.expr, site)
        result: Any = True
        for operand in node.ops:
            other = self.evaluate(operand.expr, site)
            try:
                result = _COMPARE[operand.op](value, other)
            except (TypeError, KeyError) as exc:
                raise Impossible(
                    f"cannot compare {_jinja_kind(value)} and {_jinja_kind(other)}"
                ) from exc
            if not result:
                return False
            value = other
        return result

    def _getitem(self, node: nodes.Getitem, site: nodes.Node) -> Any:
        self._require_constant_root(node, site)
        container = self.evaluate(node.node, site)
        if isinstance(node.arg, nodes.Slice):
            return subscript(container, self._slice(node.arg, site))
        return subscript(container, self.evaluate(node.arg, site))

    def _slice(self, node: nodes.Slice, site: nodes.Node) -> slice:
        def bound(part: nodes.Expr | None) -> Any:
            return None if part is None else self.evaluate(part, site)

        return slice(bound(node.start), bound(node.stop), bound(node.step))

    def _getattr(self, node: nodes.Getattr, site: nodes.Node) -> Any:
        self._require_constant_root(node, site)
        container = self.evaluate(node.node, site)
        # Jinja's `x.name` tries the Python attribute first (`d.items` is the method, even
        # when `d` has an "items" key), then the item.
        if hasattr(container, node.attr):
            raise Impossible(
                f"`.{node.attr}` is a Python attribute of {_jinja_kind(container)}, "
                "not a prop value",
                hint=HINT_OPERATORS,
            )
        if isinstance(container, dict):
            return subscript(container, node.attr)
        raise Impossible(f"{_jinja_kind(container)} has no attribute `{node.attr}`")

    def _require_constant_root(self, node: nodes.Getattr | nodes.Getitem, site: nodes.Node) -> None:
        """`page.image` where `page` is not constant: say so about the whole expression."""
        root = _chain_root(node)
        if root is None:
            return
        try:
            self._name(root, site)
        except Impossible as exc:
            what = "an attribute" if isinstance(node, nodes.Getattr) else "an item"
            hint = f"{_capitalise(exc.reason)}. {exc.hint or HINT_CONSTANT}"
            raise Impossible(
                f"`{_describe(node)}` is {what} of a runtime value", hint=hint
            ) from None

    def _name(self, node: nodes.Name, site: nodes.Node) -> Any:
        bindings = self._index.bindings.get(node.name, [])
        if not bindings:
            raise _undefined(node.name)
        scoped = self._enclosing_scope_binding(bindings, site)
        if scoped is not None:  # a loop variable or parameter shadows every other binding
            hint = _BINDING_HINTS.get(scoped.kind, HINT_CONSTANT)
            raise Impossible(f"`{node.name}` {scoped.kind.value}", hint=hint)
        if len(bindings) > 1:
            lines = ", ".join(str(line) for line in sorted({b.statement.lineno for b in bindings}))
            raise Impossible(
                f"`{node.name}` is bound {len(bindings)} times (line {lines})",
                hint="Give each value its own name and `{% set %}` it once.",
            )
        binding = bindings[0]
        if binding.kind is not _BindingKind.SET or binding.value is None:
            hint = _BINDING_HINTS.get(binding.kind, HINT_CONSTANT)
            raise Impossible(f"`{node.name}` {binding.kind.value}", hint=hint)
        self._check_visible(binding, site)
        return self._binding_value(binding)

    def _enclosing_scope_binding(
        self, bindings: list[_Binding], site: nodes.Node
    ) -> _Binding | None:
        """The innermost loop, macro, call block or `{% with %}` around `site` that binds the
        name, if any: inside it, the name means that binding whatever else is set."""
        for ancestor, _ in reversed(self._index.container_path(site)):
            for binding in bindings:
                if binding.statement is ancestor and binding.kind in _SCOPE_KINDS:
                    return binding
        return None

    def _check_visible(self, binding: _Binding, site: nodes.Node) -> None:
        """A `{% set %}` counts when it runs before `site`, in a scope enclosing it."""
        index, statement = self._index, binding.statement
        line = statement.lineno
        site_path = index.container_path(site)
        if any(ancestor is statement for ancestor, _ in site_path) or statement is site:
            raise Impossible(f"`{binding.name}` is used in its own `{{% set %}}` (line {line})")
        if index.order[id(statement)] > index.order[id(site)]:
            raise Impossible(
                f"`{binding.name}` is set on line {line}, after it is used",
                hint="Move the `{% set %}` above the call.",
            )
        set_path = index.container_path(statement)
        inner = site_path[len(set_path) :]
        encloses = [(id(n), f) for n, f in site_path[: len(set_path)]] == [
            (id(n), f) for n, f in set_path
        ]
        # A block is rendered by its own function: it sees template-level variables (they
        # live in the context) but not those set inside a loop, macro or another block.
        template_level = all(isinstance(n, _TEMPLATE_LEVEL) for n, _ in set_path)
        blocked = not template_level and any(
            isinstance(n, nodes.Block) and not n.scoped for n, _ in inner
        )
        if not encloses or blocked:
            raise Impossible(
                f"`{binding.name}` is set on line {line} inside a block, loop, macro or branch "
                "that does not enclose this use",
                hint="Move the `{% set %}` to the top level of the template, before the call.",
            )

    def _binding_value(self, binding: _Binding) -> Any:
        key = id(binding)
        if key in self._memo:
            ok, value = self._memo[key]
            if ok:
                return value
            raise value
        if key in self._resolving:
            raise Impossible(f"`{binding.name}` is defined in terms of itself")
        self._resolving.add(key)
        try:
            assert binding.value is not None  # only plain `{% set %}` bindings get here
            value = _unpack(self.evaluate(binding.value, binding.statement), binding)
        except Impossible as exc:
            line = binding.statement.lineno
            reason = f"`{binding.name}` (set on line {line}) is not constant: {exc.reason}"
            failure = Impossible(reason, hint=exc.hint)
            self._memo[key] = (False, failure)
            raise failure from None
        finally:
            self._resolving.discard(key)
        self._memo[key] = (True, value)
        return value


def _unpack(value: Any, binding: _Binding) -> Any:
    for position, length in binding.unpack:
        if not isinstance(value, list | tuple | str) or len(value) != length:
            raise Impossible(f"cannot unpack {_jinja_kind(value)} into {length} names")
        value = value[position]
    return value


_HANDLERS: dict[type[nodes.Node], Callable[[_Evaluator, Any, nodes.Node], Any]] = {
    nodes.Const: _Evaluator._const,
    nodes.TemplateData: _Evaluator._template_data,
    nodes.List: _Evaluator._list,
    nodes.Tuple: _Evaluator._tuple,
    nodes.Dict: _Evaluator._dict,
    nodes.Concat: _Evaluator._concat,
    nodes.Add: _Evaluator._binary,
    nodes.Sub: _Evaluator._binary,
    nodes.Mul: _Evaluator._binary,
    nodes.Div: _Evaluator._binary,
    nodes.FloorDiv: _Evaluator._binary,
    nodes.Mod: _Evaluator._binary,
    nodes.Pow: _Evaluator._binary,
    nodes.And: _Evaluator._and,
    nodes.Or: _Evaluator._or,
    nodes.Neg: _Evaluator._unary,
    nodes.Pos: _Evaluator._unary,
    nodes.Not: _Evaluator._unary,
    nodes.CondExpr: _Evaluator._cond,
    nodes.Compare: _Evaluator._compare,
    nodes.Getitem: _Evaluator._getitem,
    nodes.Getattr: _Evaluator._getattr,
    nodes.Name: _Evaluator._name,
}


def _not_constant(node: nodes.Node) -> Impossible:
    """Why an expression of a kind the evaluator does not handle has no build-time value."""
    if isinstance(node, nodes.Filter):
        return Impossible(
            f"`| {node.name}` is a filter: filters are not evaluated at build time",
            hint=HINT_OPERATORS,
        )
    if isinstance(node, nodes.Test):
        return Impossible(
            f"`is {node.name}` is a test: tests are not evaluated at build time",
            hint=HINT_OPERATORS,
        )
    if isinstance(node, nodes.Call):
        callee = (
            _describe(node.node)
            if _chain_root(node.node) or isinstance(node.node, nodes.Name)
            else None
        )
        what = f"`{callee}(...)` is a function call" if callee else "this is a function call"
        return Impossible(f"{what}: calls are not evaluated at build time", hint=HINT_OPERATORS)
    return Impossible(
        f"{type(node).__name__} expressions are not evaluated at build time", hint=HINT_OPERATORS
    )


def _undefined(name: str) -> Impossible:
    if name in _IMPLICIT_NAMES:
        return Impossible(f"`{name}` {_IMPLICIT_NAMES[name]}, known only at render time")
    return Impossible(
        f"`{name}` is not defined in this template: values from the render context are not "
        "known at build time",
        hint=HINT_CONSTANT,
    )


def _chain_root(node: nodes.Node) -> nodes.Name | None:
    """The Name at the bottom of `a.b[c].d`, or None if the chain starts elsewhere."""
    while isinstance(node, nodes.Getattr | nodes.Getitem):
        node = node.node
    return node if isinstance(node, nodes.Name) else None


def _describe(node: nodes.Node) -> str:
    """`page.image['src']` for a name-rooted chain, for messages."""
    suffixes = []
    while isinstance(node, nodes.Getattr | nodes.Getitem):
        if isinstance(node, nodes.Getattr):
            suffixes.append(f".{node.attr}")
        elif isinstance(node.arg, nodes.Const):
            suffixes.append(f"[{node.arg.value!r}]")
        else:
            suffixes.append("[...]")
        node = node.node
    base = node.name if isinstance(node, nodes.Name) else "..."
    return base + "".join(reversed(suffixes))


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _jinja_kind(value: Any) -> str:
    return kind_of(value, none="none")
