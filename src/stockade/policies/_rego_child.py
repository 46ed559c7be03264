"""The Rego worker process (``python -m stockade.policies._rego_child``): reads length-prefixed
JSON requests on standard input, answers on what was standard output. Its memory is watched by the
parent (rego-cpp's allocator reserves more address space than an address-space limit allows). See
:mod:`stockade.policies.rego`."""

from __future__ import annotations

import ctypes
import os
import struct
from typing import Any

import orjson


def main() -> None:
    # Answers go to a copy of the original stdout; rego-cpp's own prints go to a scratch file,
    # read back when a query answers only "<error>" (its diagnostics are printed, not returned).
    answers = os.fdopen(os.dup(1), "wb")
    requests = os.fdopen(os.dup(0), "rb")
    devnull = os.open(os.devnull, os.O_RDWR)
    printed = os.memfd_create("rego-prints")
    os.dup2(devnull, 0)
    os.dup2(printed, 1)
    os.dup2(printed, 2)
    import regopy  # type: ignore[import-untyped]

    global _PRINTED
    _PRINTED = printed

    interpreters: dict[str, Any] = {}
    queries: dict[str, str] = {}
    modules_of: dict[str, list[tuple[str, str]]] = {}

    def fresh(modules: list[tuple[str, str]], data: Any) -> Any:
        interpreter = regopy.Interpreter()
        for name, text in modules:
            interpreter.add_module(name, text)
        if data is not None:
            interpreter.add_data_json(orjson.dumps(data).decode())
        return interpreter

    while True:
        head = requests.read(4)
        if len(head) < 4:
            return
        message = orjson.loads(requests.read(struct.unpack(">I", head)[0]))
        try:
            key = message.get("key", "")
            if message["op"] == "builtins":
                probe = regopy.Interpreter()
                reply: Any = {"ok": True, "missing": [n for n in message["names"] if not probe.is_builtin(n)]}
            elif message["op"] == "load":
                modules = [(m[0], m[1]) for m in message["modules"]]
                interpreter = fresh(modules, None)
                queries[key] = f"stockade_violations := [v | data.{message['package']}.violation[v]]"
                interpreter.set_input_term("{}")
                _run(interpreter, queries[key])  # compiles now: syntax errors, unknown builtins
                interpreters[key], modules_of[key] = interpreter, modules
                reply = {"ok": True}
            else:
                data = message.get("data")
                interpreter = interpreters[key] if data is None else fresh(modules_of[key], data)
                interpreter.set_input_term(orjson.dumps(message["input"]).decode())
                reply = {"ok": True, "violations": _run(interpreter, queries[key])}
        except MemoryError:
            reply = {"ok": False, "error": "the policy exceeded the memory limit"}
        except Exception as exc:
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        body = orjson.dumps(reply)
        answers.write(struct.pack(">I", len(body)) + body)
        answers.flush()


_PRINTED = -1  # the scratch file rego-cpp prints into


def libc_flush() -> None:
    """Flush C stdio buffers (rego-cpp's prints may sit there)."""
    ctypes.CDLL(None).fflush(None)


def _run(interpreter: Any, query: str) -> list[Any]:
    """The query's ``stockade_violations``; rego-cpp's error text when it answers with one."""
    from regopy.interpreter import rego_query  # type: ignore[import-untyped]
    from regopy.output import rego_output_ok, rego_output_string  # type: ignore[import-untyped]

    os.ftruncate(_PRINTED, 0)
    os.lseek(_PRINTED, 0, os.SEEK_SET)
    impl = rego_query(interpreter._impl, query)
    text = str(rego_output_string(impl))
    if text.strip() == "<error>":
        libc_flush()
        os.lseek(_PRINTED, 0, os.SEEK_SET)
        said = os.read(_PRINTED, 20_000).decode(errors="replace").strip()
        raise RuntimeError(said or text)
    if not rego_output_ok(impl):
        raise RuntimeError(text)
    if text == "undefined":
        return []
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise RuntimeError(text) from None  # an error report, not an answer
    first = document[0] if isinstance(document, list) and document else document
    bindings = first.get("bindings", {}) if isinstance(first, dict) else {}
    found = bindings.get("stockade_violations", [])
    return list(found) if isinstance(found, list) else []


if __name__ == "__main__":
    main()
