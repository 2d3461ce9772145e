"""Data the course ships and builds: corpora and synthetic sequence tasks."""

from rnn_lib.data.text import CORPORA, UNK, TextStreams, Vocabulary, load_corpus, split

__all__ = ["CORPORA", "UNK", "TextStreams", "Vocabulary", "load_corpus", "split"]
