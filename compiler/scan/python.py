"""Find `StaticImage(...)` calls in Python sources with libcst and evaluate their arguments.

A call counts when its callee is bound to `StaticImage` imported from the `staticimg` package
(`from staticimg import StaticImage [as X]`, `import staticimg [as si]` then `si.StaticImage`).
Arguments are evaluated the way Gatsby's Babel pass evaluates JSX attributes, and further:
see `PythonEvaluator`. What cannot be evaluated is recorded as `Unresolved`, pointing at the
exact sub-expression that is not constant.
"""

from __future__ import annotations

import ast
import contextlib
import io
import operator
import sys
import tokenize
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

import libcst as cst
from libcst.metadata import (
    Assignment,
    BaseAssignment,
    BuiltinAssignment,
    ClassScope,
    CodeRange,
    ComprehensionScope,
    ImportAssignment,
    MetadataWrapper,
    ParentNodeProvider,
    PositionProvider,
    ProviderT,
    Scope,
    ScopeProvider,
)

from staticimg.compiler.diagnostics import Diagnostic, Span
from staticimg.compiler.scan.calls import Arg, ArgKind, FileScan, FoundCall, Unresolved
from staticimg.compiler.scan.evaluate import (
    MAX_STRING,
    Impossible,
    binary,
    check_size,
    check_weight,
    format_value,
    subscript,
    unary,
)
from staticimg.compiler.scan.prefilter import DEFAULT_CALLEES

_PARAMETER_HINT = (
    "A StaticImage is built before the program runs, so its build props cannot come from a "
    "function's parameters. Write one StaticImage per image, or build the image data ahead "
    "and render it with GatsbyImage(image=...)."
)
_LOOP_HINT = (
    "Write one StaticImage per image: a call inside a loop is one call with one set of props."
)
_CONSTANT_HINT = "Bind the value once, in this file, to a constant expression."


def scan_python(source: bytes, file: str, callees: frozenset[str] = DEFAULT_CALLEES) -> FileScan:
    """Scan one Python file. `file` is its project-relative POSIX path."""
    text = _decode(source, file)
    if isinstance(text, Diagnostic):
        return FileScan(file, diagnostics=(text,))
    # CPython's parser goes first: it refuses what CPython cannot compile (bad escapes,
    # oversized int literals, str and bytes concatenated) that libcst would accept, and it
    # refuses absurd nesting cleanly where libcst's native parser would overflow its stack.
    refused = _cpython_syntax_error(text, file)
    if refused is not None:
        return FileScan(file, diagnostics=(refused,))
    try:
        module = cst.parse_module(text)
    except Exception as exc:  # the grammars disagree: libcst's own word
        message = f"cannot parse this file: {exc}"
        return FileScan(file, diagnostics=(Diagnostic("SI110", message, file, _error_span(exc)),))
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    finder = _CallFinder(file, callees, wrapper)
    with _recursion_headroom():
        wrapper.visit(finder)
    return FileScan(file, calls=tuple(finder.calls))


def _decode(source: bytes, file: str) -> str | Diagnostic:
    """The source text, decoded once as CPython would (coding comment, BOM), or why not."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
        return source.decode(encoding)
    except (SyntaxError, LookupError, UnicodeError) as exc:
        hint = "Save the file as UTF-8, or declare its real encoding in a coding comment."
        span = Span.of_byte(source, exc.start) if isinstance(exc, UnicodeDecodeError) else None
        return Diagnostic("SI112", f"cannot decode this file: {exc}", file, span, hint=hint)


@contextlib.contextmanager
def _recursion_headroom() -> Iterator[None]:
    # libcst's metadata walk and the evaluator recurse once per nesting level (a long `a + b
    # + ...` chain is deep); Python-to-Python calls need no C stack since 3.11, so a higher
    # limit for the walk is safe.
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous, 20_000))
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


def _cpython_syntax_error(source: str, file: str) -> Diagnostic | None:
    """CPython's verdict on the file, with its own message and location, or None if valid."""
    try:
        ast.parse(source, filename=file)
    except SyntaxError as exc:
        line, column = exc.lineno or 1, exc.offset or 1
        end_line = exc.end_lineno or line
        end_column = exc.end_offset if exc.end_offset and end_line == line else column + 1
        span = Span(line, column, end_line, max(end_column, column + 1))
        return Diagnostic("SI110", f"invalid Python syntax: {exc.msg}", file, span)
    except (RecursionError, MemoryError):
        return Diagnostic("SI110", "the file is nested too deeply for CPython to compile", file)
    except (ValueError, UnicodeError, LookupError) as exc:
        return Diagnostic("SI110", f"invalid Python source: {exc}", file)
    return None


def _error_span(exc: Exception) -> Span | None:
    if isinstance(exc, cst.ParserSyntaxError):
        return Span(exc.raw_line, exc.raw_column + 1, exc.raw_line, exc.raw_column + 2)
    return None


def _span(code_range: CodeRange) -> Span:
    start, end = code_range.start, code_range.end
    return Span(start.line, start.column + 1, end.line, end.column + 1)


class _CallFinder(cst.CSTVisitor):
    # Positions and scopes for the whole file; qualified names and parents only where asked:
    # computing them for every node of a file costs more than the rest of its scan.
    METADATA_DEPENDENCIES: ClassVar[Sequence[ProviderT]] = (PositionProvider, ScopeProvider)

    def __init__(self, file: str, callees: frozenset[str], wrapper: MetadataWrapper) -> None:
        super().__init__()
        self.file = file
        self.callees = {qualified: qualified.rpartition(".")[2] for qualified in callees}
        self.calls: list[FoundCall] = []
        self._wrapper = wrapper
        self._parents: Mapping[cst.CSTNode, cst.CSTNode] | None = None

    def visit_Call(self, node: cst.Call) -> None:
        scope = self.get_metadata(ScopeProvider, node.func, None)
        names = scope.get_qualified_names_for(node.func) if scope is not None else set()
        callee = next((self.callees[q.name] for q in names if q.name in self.callees), None)
        if callee is None:
            return
        evaluator = PythonEvaluator(self)
        self.calls.append(
            FoundCall(
                file=self.file,
                callee=callee,
                span=self.span(node),
                name_span=self.span(node.func),
                args=tuple(self._args(node, evaluator)),
            )
        )

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        if self._parents is None:
            self._parents = self._wrapper.resolve(ParentNodeProvider)
        return self._parents.get(node)

    def span(self, node: cst.CSTNode) -> Span:
        return _span(self.get_metadata(PositionProvider, node))

    def _args(self, call: cst.Call, evaluator: PythonEvaluator) -> Iterator[Arg]:
        index = 0
        for arg in call.args:
            span = self.span(arg.value)
            if arg.keyword is not None:
                value = evaluator.value_or_unresolved(arg.value)
                yield Arg(ArgKind.KEYWORD, arg.keyword.value, -1, span, value)
            elif arg.star == "**":
                yield from self._keyword_spread(arg.value, span, evaluator)
            elif arg.star == "*":
                expanded = evaluator.value_or_unresolved(arg.value)
                if isinstance(expanded, list | tuple):
                    for item in expanded:
                        yield Arg(ArgKind.POSITIONAL, None, index, span, item, from_spread=True)
                        index += 1
                else:
                    reason = _spread_reason(expanded, "a list or tuple")
                    unresolved = Unresolved(reason, _unresolved_span(expanded, span))
                    yield Arg(ArgKind.SPREAD, None, -1, span, unresolved)
            else:
                value = evaluator.value_or_unresolved(arg.value)
                yield Arg(ArgKind.POSITIONAL, None, index, span, value)
                index += 1

    def _keyword_spread(
        self, expression: cst.BaseExpression, span: Span, evaluator: PythonEvaluator
    ) -> Iterator[Arg]:
        mapping = evaluator.value_or_unresolved(expression)
        if isinstance(mapping, dict) and all(isinstance(key, str) for key in mapping):
            for key, item in mapping.items():
                yield Arg(ArgKind.KEYWORD, key, -1, span, item, from_spread=True)
            return
        reason = _spread_reason(mapping, "a dict with string keys")
        hint = "Spread a dict literal, or a name bound once in this file to one."
        unresolved = Unresolved(reason, _unresolved_span(mapping, span), hint)
        yield Arg(ArgKind.SPREAD, None, -1, span, unresolved)


def _spread_reason(value: Any, expected: str) -> str:
    if isinstance(value, Unresolved):
        return value.reason
    return f"the spread value is {type(value).__name__}, not {expected}"


def _unresolved_span(value: Any, default: Span) -> Span:
    return value.span if isinstance(value, Unresolved) else default


_BINARY_OPERATORS: dict[type[cst.BaseBinaryOp], str] = {
    cst.Add: "+",
    cst.Subtract: "-",
    cst.Multiply: "*",
    cst.Divide: "/",
    cst.FloorDivide: "//",
    cst.Modulo: "%",
    cst.Power: "**",
}
_UNARY_OPERATORS: dict[type[cst.BaseUnaryOp], str] = {
    cst.Minus: "-",
    cst.Plus: "+",
    cst.Not: "not",
    cst.BitInvert: "~",
}
_COMPARISONS: dict[type[cst.BaseCompOp], str] = {
    cst.Equal: "==",
    cst.NotEqual: "!=",
    cst.LessThan: "<",
    cst.LessThanEqual: "<=",
    cst.GreaterThan: ">",
    cst.GreaterThanEqual: ">=",
    cst.In: "in",
    cst.NotIn: "not in",
    cst.Is: "is",
    cst.IsNot: "is not",
}
_NAMED_CONSTANTS = {"True": True, "False": False, "None": None}


class PythonEvaluator:
    """Evaluates a libcst expression to a constant, or raises `Impossible` naming the node.

    Resolves: literals (str, int, float, bool, None), f-strings of constants, implicit string
    concatenation, lists, tuples and dicts of constants with `*`/`**` unpacking, arithmetic,
    comparisons, `and`/`or`/`not`, conditional expressions with a constant test, subscripts
    and slices of constant containers, and names bound exactly once in this file by a plain
    assignment to a constant expression, followed through chains. A name used in the scope
    that binds it must be bound before the use (module level, or earlier in the function).
    """

    def __init__(self, finder: _CallFinder) -> None:
        self._finder = finder
        self._resolving: set[int] = set()  # bindings being followed, to stop `a = b; b = a`

    def value_or_unresolved(self, node: cst.BaseExpression) -> Any:
        try:
            value = self.evaluate(node)
            check_weight(value)  # shared sub-values (`[s] * 1000`) are large once copied
            return value
        except Impossible as exc:
            target = exc.node if isinstance(exc.node, cst.CSTNode) else node
            return Unresolved(exc.reason, self._finder.span(target), exc.hint)
        except RecursionError:
            return Unresolved("the expression is nested too deeply", self._finder.span(node))

    def evaluate(self, node: cst.BaseExpression) -> Any:
        method = getattr(self, f"_eval_{type(node).__name__}", None)
        if method is None:
            raise _not_constant(node)
        return check_size(method(node))

    # literals

    def _eval_Integer(self, node: cst.Integer) -> Any:
        return node.evaluated_value

    def _eval_Float(self, node: cst.Float) -> Any:
        return node.evaluated_value

    def _eval_Imaginary(self, node: cst.Imaginary) -> Any:
        raise Impossible("complex numbers are not valid prop values", node)

    def _eval_SimpleString(self, node: cst.SimpleString) -> Any:
        value = node.evaluated_value
        if isinstance(value, bytes):
            raise Impossible("bytes are not valid prop values: use a str", node)
        return value

    def _eval_ConcatenatedString(self, node: cst.ConcatenatedString) -> Any:
        return binary("+", self.evaluate(node.left), self.evaluate(node.right))

    def _eval_FormattedString(self, node: cst.FormattedString) -> Any:
        literal_prefix = node.prefix.lower().replace("f", "")
        pieces: list[str] = []
        length = 0
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                piece = _fstring_text(part.value, literal_prefix, node.quote)
            elif isinstance(part, cst.FormattedStringExpression):
                piece = self._format_field(part, literal_prefix, node.quote)
            else:
                continue
            pieces.append(piece)
            length += len(piece)
            if length > MAX_STRING:  # before joining: many fields of a long value add up
                raise Impossible("the f-string would be too long to be a prop", node)
        return "".join(pieces)

    def _format_field(
        self, field: cst.FormattedStringExpression, literal_prefix: str, quote: str
    ) -> str:
        if field.equal is not None:
            # `{x=}` prints the field's own source text; not worth reproducing for a prop.
            raise Impossible("self-documenting f-string fields (`{x=}`) are not evaluated", field)
        value = self.evaluate(field.expression)
        spec = ""
        for part in field.format_spec or ():
            if isinstance(part, cst.FormattedStringText):
                spec += _fstring_text(part.value, literal_prefix, quote)
            elif isinstance(part, cst.FormattedStringExpression):
                spec += self._format_field(part, literal_prefix, quote)
            if len(spec) > MAX_STRING:
                raise Impossible("the format spec would be too long", field)
        return format_value(value, field.conversion, spec)

    def _eval_Name(self, node: cst.Name) -> Any:
        if node.value in _NAMED_CONSTANTS:
            return _NAMED_CONSTANTS[node.value]
        return self._resolve_name(node)

    # containers

    def _eval_List(self, node: cst.List) -> Any:
        return self._elements(node.elements)

    def _eval_Tuple(self, node: cst.Tuple) -> Any:
        return tuple(self._elements(node.elements))

    def _eval_Set(self, node: cst.Set) -> Any:
        raise Impossible("sets have no order: use a list", node)

    def _elements(self, elements: Sequence[cst.BaseElement]) -> list[Any]:
        values: list[Any] = []
        for element in elements:
            if isinstance(element, cst.StarredElement):
                spread = self.evaluate(element.value)
                if not isinstance(spread, list | tuple | str):
                    raise Impossible(f"cannot unpack a {type(spread).__name__} with *", element)
                values.extend(spread)
            else:
                values.append(self.evaluate(element.value))
            check_size(values)
        return values

    def _eval_Dict(self, node: cst.Dict) -> Any:
        result: dict[Any, Any] = {}
        for element in node.elements:
            if isinstance(element, cst.StarredDictElement):
                spread = self.evaluate(element.value)
                if not isinstance(spread, dict):
                    raise Impossible(f"cannot unpack a {type(spread).__name__} with **", element)
                result.update(spread)
            elif isinstance(element, cst.DictElement):
                key = self.evaluate(element.key)
                item = self.evaluate(element.value)
                try:
                    result[key] = item
                except TypeError:  # unhashable, e.g. a list inside a tuple key
                    raise Impossible(
                        "a dict key must be a str, number or tuple", element.key
                    ) from None
            check_size(result)
        return result

    # operators

    def _eval_BinaryOperation(self, node: cst.BinaryOperation) -> Any:
        op = _BINARY_OPERATORS.get(type(node.operator))
        if op is None:
            raise Impossible(f"`{_code(node)}` uses an operator that is not evaluated", node)
        left, right = self.evaluate(node.left), self.evaluate(node.right)
        try:
            return binary(op, left, right)
        except Impossible as exc:
            raise Impossible(exc.reason, node, exc.hint) from None

    def _eval_UnaryOperation(self, node: cst.UnaryOperation) -> Any:
        operand = self.evaluate(node.expression)
        try:
            return unary(_UNARY_OPERATORS[type(node.operator)], operand)
        except Impossible as exc:
            raise Impossible(exc.reason, node, exc.hint) from None

    def _eval_BooleanOperation(self, node: cst.BooleanOperation) -> Any:
        left = self.evaluate(node.left)
        if isinstance(node.operator, cst.And):
            return self.evaluate(node.right) if left else left
        return left if left else self.evaluate(node.right)

    def _eval_Comparison(self, node: cst.Comparison) -> Any:
        left = self.evaluate(node.left)
        for target in node.comparisons:
            right = self.evaluate(target.comparator)
            if not _compare(_COMPARISONS[type(target.operator)], left, right, node):
                return False
            left = right
        return True

    def _eval_IfExp(self, node: cst.IfExp) -> Any:
        return self.evaluate(node.body if self.evaluate(node.test) else node.orelse)

    def _eval_Subscript(self, node: cst.Subscript) -> Any:
        container = self.evaluate(node.value)
        if len(node.slice) != 1:
            raise Impossible("multi-dimensional subscripts are not evaluated", node)
        index = node.slice[0].slice
        if isinstance(index, cst.Index):
            if index.star is not None:
                raise Impossible("starred subscripts are not evaluated", node)
            key = self.evaluate(index.value)
        elif isinstance(index, cst.Slice):
            parts = (index.lower, index.upper, index.step)
            key = slice(*(self.evaluate(part) if part else None for part in parts))
        else:
            raise Impossible("this subscript is not evaluated", node)
        try:
            return subscript(container, key)
        except Impossible as exc:
            raise Impossible(exc.reason, node) from None

    # names

    def _resolve_name(self, node: cst.Name) -> Any:
        name = node.value
        scope = self._finder.get_metadata(ScopeProvider, node, None)
        if scope is None:
            raise Impossible(f"`{name}` cannot be resolved here", node)
        assignments = list(scope[name])
        if not assignments:
            raise Impossible(f"`{name}` is not defined in this file", node, _CONSTANT_HINT)
        if any(isinstance(a, ImportAssignment) for a in assignments):
            raise Impossible(
                f"`{name}` is imported; values from other modules are not evaluated",
                node,
                "Define the value in this file, next to the StaticImage that uses it.",
            )
        if any(isinstance(a, BuiltinAssignment) for a in assignments):
            raise Impossible(f"`{name}` is a builtin, not a constant", node, _CONSTANT_HINT)
        if len(assignments) > 1:
            lines = ", ".join(str(line) for line in sorted(self._lines(assignments)))
            raise Impossible(
                f"`{name}` is bound {len(assignments)} times (lines {lines}), so its value at "
                "this call is not known at build time",
                node,
                "Bind the value once and never rebind it.",
            )
        return self._follow(node, assignments[0], scope)

    def _lines(self, assignments: list[BaseAssignment]) -> Iterator[int]:
        for assignment in assignments:
            if isinstance(assignment, Assignment):
                yield self._finder.span(assignment.node).line

    def _follow(self, use: cst.Name, assignment: BaseAssignment, use_scope: Scope) -> Any:
        assert isinstance(assignment, Assignment)
        target = assignment.node
        name = use.value
        binder, path = self._binder(target)
        if not isinstance(binder, cst.Assign | cst.AnnAssign) or path is None:
            reason, hint = _binding_kind(name, binder)
            raise Impossible(reason, use, hint)
        value = binder.value
        if value is None:  # `x: int` declares, it does not bind
            raise Impossible(f"`{name}` is declared but never assigned", use, _CONSTANT_HINT)
        if self._finder.get_metadata(ScopeProvider, binder, None) is not assignment.scope:
            raise Impossible(
                f"`{name}` is assigned inside a function through `global` or `nonlocal`, so "
                "whether and when it is bound is only known at run time",
                use,
                _CONSTANT_HINT,
            )
        if _runs_in(use_scope, assignment.scope) and not self._before(binder, use):
            raise Impossible(
                f"`{name}` is used before it is assigned", use, "Assign the value above this call."
            )
        key = id(target)
        if key in self._resolving:
            raise Impossible(f"`{name}` is defined in terms of itself", use)
        self._resolving.add(key)
        try:
            result = self.evaluate(value)
            for index, length in path:
                if not isinstance(result, list | tuple | str) or len(result) != length:
                    raise Impossible(f"cannot unpack the value bound to `{name}`", value)
                result = result[index]
            return result
        except Impossible as exc:
            line = self._finder.span(binder).line
            raise Impossible(
                f"`{name}` (bound on line {line}) is not constant: {exc.reason}",
                use,
                exc.hint or _CONSTANT_HINT,
            ) from None
        finally:
            self._resolving.discard(key)

    def _binder(
        self, target: cst.CSTNode
    ) -> tuple[cst.CSTNode | None, list[tuple[int, int]] | None]:
        """The statement that binds `target`, and the unpacking path from the assigned value to
        the target as (index, length) pairs (`a, (b, c) = ...` gives c [(1, 2), (1, 2)]);
        None when it is not a plain unpacking."""
        if not isinstance(target, cst.Name):  # parameters are bound by the Param node itself
            return target, None
        path: list[tuple[int, int]] = []
        node: cst.CSTNode = target
        while True:
            parent = self._finder.parent(node)
            if parent is None:
                return None, None
            if isinstance(parent, cst.Element):
                container = self._finder.parent(parent)
                if not isinstance(container, cst.Tuple | cst.List):
                    return container, None
                elements = list(container.elements)
                if any(isinstance(e, cst.StarredElement) for e in elements):
                    return container, None
                path.insert(0, (elements.index(parent), len(elements)))
                node = container
                continue
            if isinstance(parent, cst.StarredElement):
                return parent, None
            if isinstance(parent, cst.AssignTarget):
                statement = self._finder.parent(parent)
                return statement, path
            if isinstance(parent, cst.AnnAssign):
                return parent, path
            return parent, None

    def _before(self, binder: cst.CSTNode, use: cst.CSTNode) -> bool:
        bound, used = self._finder.span(binder), self._finder.span(use)
        return (bound.end_line, bound.end_column) <= (used.line, used.column)


def _runs_in(use_scope: Scope, binding_scope: Scope) -> bool:
    """Whether code in `use_scope` runs as part of `binding_scope`'s own code: class bodies
    and comprehensions run at once, where they stand, unlike function bodies."""
    scope = use_scope
    while isinstance(scope, ClassScope | ComprehensionScope) and scope is not binding_scope:
        scope = scope.parent
    return scope is binding_scope


def _binding_kind(name: str, binder: cst.CSTNode | None) -> tuple[str, str]:
    if isinstance(binder, cst.Param):
        return f"`{name}` is a function parameter; its value is only known at run time", (
            _PARAMETER_HINT
        )
    if isinstance(binder, cst.For | cst.CompFor):
        return f"`{name}` is a loop variable; it takes a different value each time", _LOOP_HINT
    if isinstance(binder, cst.AugAssign):
        return f"`{name}` is changed by `{name} op= ...`", "Bind the value once."
    statement = {
        cst.NamedExpr: "an assignment expression (:=)",
        cst.FunctionDef: "a function definition",
        cst.ClassDef: "a class definition",
        cst.AsName: "an `as` clause",
        cst.StarredElement: "a starred assignment",
    }
    kind = next((text for cls, text in statement.items() if isinstance(binder, cls)), None)
    reason = f"`{name}` is bound by {kind}" if kind else f"`{name}` is not a plain constant"
    return reason + ", not a constant assignment", _CONSTANT_HINT


_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "in": lambda left, right: left in right,
    "not in": lambda left, right: left not in right,
}


def _compare(op: str, left: Any, right: Any, node: cst.CSTNode) -> bool:
    if op in ("is", "is not"):
        # Identity is only meaningful for the singletons; `1 is 1` depends on the interpreter.
        if not (right is None or isinstance(right, bool)):
            raise Impossible("`is` only compares with None, True or False", node)
        return (left is right) == (op == "is")
    try:
        return bool(_COMPARE[op](left, right))
    except TypeError as exc:
        raise Impossible(f"cannot compare with `{op}`: {exc}", node) from None


def _fstring_text(raw: str, literal_prefix: str, quote: str) -> str:
    """The value of the literal text between an f-string's fields: `{{` and `}}` undoubled,
    escapes processed unless the string is raw, by reading it as a plain string literal."""
    text = raw.replace("{{", "{").replace("}}", "}")
    if "r" in literal_prefix:
        return text
    if _odd_backslashes(text):
        text += "\\"  # `\{` before a field: an unknown escape keeps its backslash
    if text.endswith(quote[0]) and not _odd_backslashes(text[:-1]):
        text = text[:-1] + "\\" + quote[0]  # `f"""a"{x}"""`: the quote is text, not the end
    try:
        value = ast.literal_eval(f"{literal_prefix}{quote}{text}{quote}")
    except (SyntaxError, ValueError) as exc:
        raise Impossible(f"cannot read this f-string's text: {exc}") from None
    assert isinstance(value, str)
    return value


def _odd_backslashes(text: str) -> bool:
    return (len(text) - len(text.rstrip("\\"))) % 2 == 1


def _code(node: cst.CSTNode) -> str:
    code = cst.Module(body=[]).code_for_node(node).strip()
    return code if len(code) <= 60 else code[:57] + "..."


_NOT_CONSTANT: tuple[tuple[type[cst.CSTNode], str, str], ...] = (
    (
        cst.Call,
        "is a function call; calls are not evaluated at build time",
        "Write the value as a literal, or bind it once in this file to a constant expression.",
    ),
    (
        cst.Attribute,
        "is an attribute of a value that only exists at run time",
        "Use a constant bound once in this file instead of an attribute.",
    ),
    (cst.Lambda, "is a lambda", _CONSTANT_HINT),
    (cst.Await, "is an await expression", _CONSTANT_HINT),
    (cst.NamedExpr, "is an assignment expression", _CONSTANT_HINT),
    (cst.ListComp, "is a comprehension; comprehensions are not evaluated", "Write the list out."),
    (cst.DictComp, "is a comprehension; comprehensions are not evaluated", "Write the dict out."),
    (cst.SetComp, "is a comprehension; comprehensions are not evaluated", _CONSTANT_HINT),
    (cst.GeneratorExp, "is a generator; generators are not evaluated", "Write the list out."),
)


def _not_constant(node: cst.BaseExpression) -> Impossible:
    for cls, kind, hint in _NOT_CONSTANT:
        if isinstance(node, cls):
            return Impossible(f"`{_code(node)}` {kind}", node, hint)
    return Impossible(f"`{_code(node)}` is not a constant expression", node, _CONSTANT_HINT)
