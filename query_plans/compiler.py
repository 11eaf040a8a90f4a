"""Object plans compiled to Python functions, as graphql-jit compiles queries to JavaScript.

An object's fields are known when its plan is made, so the loop over them is
unrolled: one ``try`` block per field reads the value the way the plan chose
and stores it when it is a string, int or boolean that needs no completion;
everything else goes to the executor's general methods (``_field``,
``_finish``, ``_field_error``), which do what graphql-core does. The generated
source holds no value from the query: names, keys and arguments are passed in
the function's namespace.
"""

from __future__ import annotations

import keyword
from typing import Any

from django.db.models import QuerySet
from django.db.models.manager import BaseManager
from graphql.pyutils import Path, Undefined

from query_plans.modes import (
    ATTRIBUTE,
    BOOLEAN,
    COLUMN,
    CONSTANT,
    FOREIGN_KEY,
    INT,
    OBJECT,
    SELF,
    SELF_ARGS,
    SELF_COPY,
    STRING,
)

MISSED = object()  # the inline read missed: Executor._field reads and completes
MIN_INT, MAX_INT = -(2**31), 2**31 - 1
_CHECKS = {
    STRING: "type(v) is str",
    INT: f"type(v) is int and {MIN_INT} <= v <= {MAX_INT}",
    BOOLEAN: "type(v) is bool",
}


def compile_object(plan: Any) -> Any:
    """``run(executor, source, path) -> dict``: the object's fields, completed."""
    namespace: dict[str, Any] = {
        "SLOW": MISSED,
        "Model": plan.model,
        "Path": Path,
        "Undefined": Undefined,
        "SPECIAL": (BaseManager, QuerySet, Exception),
    }
    lines = ["def run(ex, source, path):", "    r = {}"]
    if plan.model is not None:
        lines.append("    d = source.__dict__ if type(source) is Model else None")
    for index, field in enumerate(plan.fields):
        name = f"F{index}"
        namespace[name] = field
        namespace[f"{name}_func"] = field.func
        key = repr(field.key)  # a GraphQL name: letters, digits and underscores
        lines.append("    try:")
        lines += [f"        {line}" for line in _field_lines(field, name, key, namespace)]
        lines += [
            "    except Exception as e:",
            f"        r[{key}] = ex._field_error(e, {name}, path)",
        ]
    lines.append("    return r")
    source = "\n".join(lines)
    code = compile(source, f"<query plan of {plan.type_name}>", "exec")
    exec(code, namespace)
    run = namespace["run"]
    run.__source__ = source
    return run


def _field_lines(field: Any, name: str, key: str, namespace: dict[str, Any]) -> list[str]:
    mode = field.mode
    slow = [f"r[{key}] = ex._field({name}, source, path)"]
    if mode == CONSTANT:
        namespace[f"{name}_const"] = field.const
        read = [f"v = {name}_const"]
    elif mode == COLUMN:
        read = [f"v = SLOW if d is None else d.get({field.attname!r}, SLOW)"]
    elif mode == FOREIGN_KEY:
        read = [
            "if d is None:",
            "    v = SLOW",
            "else:",
            "    try:",
            f"        v = {name}_func(source)",
            "    except KeyError:",
            "        v = SLOW",
        ]
    elif mode == ATTRIBUTE:
        attname = field.attname
        if attname.isidentifier() and not keyword.iskeyword(attname):
            read = [f"v = source.{attname}"]
        else:
            namespace[f"{name}_attname"] = attname
            read = [f"v = getattr(source, {name}_attname)"]
    elif mode == SELF:
        read = [f"v = {name}_func(source)"]
    elif mode in (SELF_ARGS, SELF_COPY):
        arguments = []
        for position, (argument, value) in enumerate(field.kwargs.items()):
            constant = f"{name}_a{position}"
            namespace[constant] = value
            copy = argument in field.list_keys
            expression = f"list({constant})" if copy else constant
            if argument.isidentifier() and not keyword.iskeyword(argument):
                arguments.append(f"{argument}={expression}")
            else:
                namespace[f"{name}_n{position}"] = argument
                arguments.append(f"**{{{name}_n{position}: {expression}}}")
        read = [f"v = {name}_func(source, {', '.join(arguments)})"]
    else:
        return slow
    check = _CHECKS.get(field.leaf)
    finish = f"r[{key}] = ex._finish({name}, v, source, path)"
    lines = list(read)
    branch = "if"
    if mode in (COLUMN, FOREIGN_KEY):
        lines += ["if v is SLOW:", f"    {slow[0]}"]
        branch = "elif"
    plan = field.type_plan
    if check is not None:
        lines += [f"{branch} {check}:", f"    r[{key}] = v", "else:", f"    {finish}"]
    elif plan.kind == OBJECT and not plan.needs_info:
        lines += _object_lines(field, name, key, branch, finish, namespace)
    elif branch == "elif":
        lines += ["else:", f"    {finish}"]
    else:
        lines.append(finish)
    return lines


def _object_lines(
    field: Any, name: str, key: str, branch: str, finish: str, namespace: dict[str, Any]
) -> list[str]:
    """An object value completed here when it is plainly one: not null (unless the
    field is nullable), not an exception, a manager or a queryset (see _finish)."""
    object_plan = field.type_plan.object
    namespace[f"{name}_run"] = object_plan.run
    namespace[f"{name}_parent"] = field.parent_name
    lines = []
    if not field.type_plan.non_null:
        lines += [f"{branch} v is None:", f"    r[{key}] = None"]
        branch = "elif"
    lines += [f"{branch} v is Undefined or isinstance(v, SPECIAL):", f"    {finish}"]
    if object_plan.is_type_of is not None:
        namespace[f"{name}_is_type_of"] = object_plan.is_type_of
        lines += [f"elif {name}_is_type_of(v, None) is not True:", f"    {finish}"]
    lines += ["else:", f"    r[{key}] = {name}_run(ex, v, Path(path, {key}, {name}_parent))"]
    return lines
