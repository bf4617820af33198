"""Each package has one error base, exported from its `__init__`: a Python user who catches the four
bases catches every error sleuth raises for their input, and the CLI prints each as one line."""

import importlib
import inspect
import pkgutil

import pytest

import agents
import attention_runtime
import memory
import tools

BASES = {agents: agents.AgentError, attention_runtime: attention_runtime.AttentionRuntimeError,
         memory: memory.StoreError, tools: tools.ToolError}
SKIP = ("attention_runtime.backends", "attention_runtime.sparse", "attention_runtime.plugin", "agents.llm.local")


@pytest.mark.parametrize("package", list(BASES), ids=lambda p: p.__name__)
def test_every_error_a_package_defines_is_under_its_base(package):
    base = BASES[package]
    found = []
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if info.name.startswith(SKIP):  # these load vLLM or torch; they define no error classes
            continue
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Exception) and cls.__module__.startswith(package.__name__ + "."):
                found.append(cls)
    assert found and all(issubclass(cls, base) for cls in found), [c for c in found if not issubclass(c, base)]
