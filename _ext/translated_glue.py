"""Let ``{glue}`` roles and directives work inside translated paragraphs.

The Chinese edition replaces each paragraph by its translation from the
gettext catalogs (``locales/zh_CN/LC_MESSAGES``). Sphinx parses a translated
paragraph on its own, as a small document of its own, and myst-nb's glue
looks its keys up in the notebook of the document it is parsing, which this
small document does not have: every glued number in a translated paragraph
rendered as nothing, with "No key ... found in glue data for this document".

This extension remembers the notebook's glue data while the page itself is
parsed (every glue key of a translation is first read in the original
paragraph) and lets the translated paragraphs find it there. It changes
nothing for an English page.

A glued phrase (words, not only a number) is glued twice by
``rnn_lib.glue(name, english, chinese=...)``: in the Chinese edition a role
naming ``name`` pastes the Chinese one, glued as ``name`` plus
``rnn_lib.environment.CHINESE_SUFFIX``.
"""

from __future__ import annotations

from docutils import nodes
from myst_nb.ext.glue import directives, roles, utils
from sphinx.application import Sphinx

from rnn_lib.environment import CHINESE_SUFFIX

_RETRIEVE = utils.retrieve_glue_data
_KEY = "translated_glue_renderer"


def retrieve_glue_data(document: nodes.document, key: str):
    """myst-nb's lookup, falling back to the page's notebook for a translation.

    In the Chinese edition, a key's Chinese phrase wins where there is one.
    """
    env = getattr(document.settings, "env", None)
    if env is not None and env.config.language == "zh_CN":
        try:
            return _lookup(document, env, key + CHINESE_SUFFIX)
        except utils.RetrievalError:
            pass
    return _lookup(document, env, key)


def _lookup(document: nodes.document, env, key: str):
    if "nb_renderer" in document:  # the page itself: remember its notebook
        if env is not None:
            env.temp_data[_KEY] = document["nb_renderer"]
        return _RETRIEVE(document, key)
    renderer = None if env is None else env.temp_data.get(_KEY)
    if renderer is None:
        return _RETRIEVE(document, key)
    page = nodes.document(document.settings, document.reporter)
    page["nb_renderer"] = renderer
    return _RETRIEVE(page, key)


def setup(app: Sphinx) -> dict:
    # env.temp_data is cleared at the start of every page, so nothing leaks
    # from one page's notebook into the next.
    roles.retrieve_glue_data = retrieve_glue_data
    directives.retrieve_glue_data = retrieve_glue_data
    return {"parallel_read_safe": True, "parallel_write_safe": True}
