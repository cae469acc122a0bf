"""The plugin registry: look-ups, helpful errors, broken and duplicate plugins."""

from __future__ import annotations

import subprocess
import sys

import pytest

from optbench import registry
from optbench.errors import DuplicatePluginError, PluginLoadWarning, UnknownPluginError


@pytest.mark.parametrize("spelling", ["l-bfgs-b", "L-BFGS-B", "lbfgsb", "l_bfgs_b", "LBFGSB"])
def test_lookup_ignores_case_dashes_and_underscores(spelling):
    plugin = registry.get("optimizer", spelling)
    assert plugin.name == "l-bfgs-b"
    assert plugin.distribution == "optbench"
    assert plugin.obj.family == "scipy"


def test_builtins_register_through_entry_points():
    assert registry.get("landscape", "beale").entry_point == "optbench.landscapes.two_d:beale"
    assert registry.get("runner", "landscape").distribution == "optbench"


def test_unknown_name_lists_registered_and_close_matches():
    with pytest.raises(UnknownPluginError) as info:
        registry.get("optimizer", "l-bfgs")
    message = str(info.value)
    assert "unknown optimizer 'l-bfgs'" in message
    assert "Did you mean: l-bfgs-b" in message
    assert "Registered optimizers:" in message and "nelder-mead" in message and "adam" in message


def test_unknown_runner_and_landscape():
    with pytest.raises(UnknownPluginError, match=r"unknown runner 'nope'.*landscape"):
        registry.get("runner", "nope")
    with pytest.raises(UnknownPluginError, match=r"unknown landscape 'beal'\. Did you mean: beale"):
        registry.get("landscape", "beal")


def test_plugin_that_raises_on_import_is_skipped_with_a_warning(fake_distribution):
    fake_distribution(
        "broken-plugins",
        """
        [optbench.landscapes]
        exploding = broken_plugin_mod:thing
        [optbench.optimizers]
        not-a-plugin = wrong_type_mod:value
        """,
        {
            "broken_plugin_mod": "raise RuntimeError('boom at import')",
            "wrong_type_mod": "value = 42",
        },
    )
    with pytest.warns(PluginLoadWarning) as caught:
        landscapes = registry.names("landscape")
        optimizers = registry.names("optimizer")
    messages = [str(w.message) for w in caught]
    assert any(
        "'exploding'" in m and "'broken-plugins'" in m and "RuntimeError: boom at import" in m
        for m in messages
    )
    assert any("'not-a-plugin'" in m and "int" in m for m in messages)
    assert "beale" in landscapes and "exploding" not in landscapes
    assert "l-bfgs-b" in optimizers and "not-a-plugin" not in optimizers


def test_duplicate_name_names_both_distributions(fake_distribution):
    fake_distribution(
        "copycat-plugins",
        """
        [optbench.landscapes]
        beale = copycat_mod:beale
        """,
        {"copycat_mod": "from optbench.landscapes.two_d import beale"},
    )
    with pytest.raises(DuplicatePluginError) as info:
        registry.plugins("landscape")
    message = str(info.value)
    assert "'beale' is registered twice" in message
    assert "'optbench'" in message and "'copycat-plugins'" in message


def test_duplicate_detection_uses_the_normalized_name(fake_distribution):
    fake_distribution(
        "spelling-plugins",
        """
        [optbench.optimizers]
        L_BFGS_B = spelling_mod:lbfgsb
        """,
        {
            "spelling_mod": """
            import dataclasses
            from optbench.optimizers.scipy_methods import lbfgsb as base
            lbfgsb = dataclasses.replace(base, name="L_BFGS_B")
            """
        },
    )
    with pytest.raises(DuplicatePluginError, match="'spelling-plugins'"):
        registry.plugins("optimizer")


def test_name_attribute_must_match_entry_point(fake_distribution):
    fake_distribution(
        "misnamed-plugins",
        """
        [optbench.landscapes]
        something-else = misnamed_mod:beale
        """,
        {"misnamed_mod": "from optbench.landscapes.two_d import beale"},
    )
    with pytest.warns(
        PluginLoadWarning, match="differs from the entry-point name 'something-else'"
    ):
        assert "something-else" not in registry.names("landscape")


def test_loading_every_runner_plugin_imports_neither_scikit_learn_nor_tensorflow():
    """A landscape study loads the search and MNIST runners too (to list them); the libraries
    only cross-validation and Keras need stay unimported (scikit-learn alone is 1.8 s)."""
    code = (
        "import sys; from optbench import registry; "
        "assert {'landscape', 'mnist', 'search'} <= set(registry.names('runner')); "
        "[registry.runner(n) for n in registry.names('runner')]; "
        "print(sorted(m for m in ('sklearn', 'tensorflow', 'keras') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
