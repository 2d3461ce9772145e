"""Data the course ships and builds: corpora and synthetic sequence tasks.

Read next: :mod:`rnn_lib.data.text` (the corpora), then the synthetic tasks
:mod:`rnn_lib.data.memory_tasks` and :mod:`rnn_lib.data.order_tasks`, and
chapter 9's translation task, :mod:`rnn_lib.data.number_words` (numbers in
English and Chinese words to digits).
"""

from rnn_lib.data.text import CORPORA, UNK, TextStreams, Vocabulary, load_corpus, split

__all__ = ["CORPORA", "UNK", "TextStreams", "Vocabulary", "load_corpus", "split"]
