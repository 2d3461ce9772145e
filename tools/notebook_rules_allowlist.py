"""The exceptions to the figure, number and built-output rules of notebook_rules.py.

Two lists, each entry with its reason. Keep both short: a number that a
reader could take for a measurement belongs in a glue from the code, and a
page belongs in the book's rules.
"""

# Pages the figure, number and built-output rules do not check yet: being
# fixed under issue 13. Empty it page by page, as each one passes
# (`python tools/notebook_rules.py`, then a build and
# `pytest tests/test_built_pages.py`); the rules then hold for the whole book.
PENDING = {  # being fixed under issue 13
    "book/06_vanishing_exploding_gradients.ipynb",
    "book/08_gated_rnns.ipynb",
    "exercises/solutions/06_gradient_norms.ipynb",
    "exercises/solutions/07_char_model.ipynb",
    "exercises/solutions/08_lstm_cell.ipynb",
    # the student versions, generated from those solutions
    "exercises/06_gradient_norms.ipynb",
    "exercises/07_char_model.ipynb",
    "exercises/08_lstm_cell.ipynb",
}

# Numbers typed in the prose that must stay as they are: {(page, number): reason}.
# `number` is the text as the rule reports it, e.g. "0.5" or "18,136".
NUMBERS = {}
