"""Optional taggers behind the :class:`~arabic_ner.model.Backend` protocol, one module per tool.

- ``camel.py``: CAMeL Tools' BERT NER (backend ``"camel"``, extra ``[camel]``);
- ``stanza.py``: a Stanza Arabic NER model (backend ``"stanza"``, extra ``[stanza]``);
- ``common.py``: what they share: their labels mapped to ours, the form of a token they
  read, the shipped lexicon.

Nothing here imports a tool until a backend is loaded; see ``docs/backends.md``.
"""
