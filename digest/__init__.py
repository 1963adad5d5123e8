"""Pure core: plain values in, plain values and strings out; no Telegram or database objects.

* ``model``: the value types (``Article``, ``Candidate``, ``RelatedLink``, ``Provider``).
* ``yaml_loader`` (the bounded safe YAML loader: ``yaml_safe`` the tuned safe loader,
  ``yaml_bounds`` nodes to values within limits) under ``parse`` (the file) and
  ``fields`` (each field's checks), with ``errors`` (why a file is rejected) and ``urls``
  (http(s) checks, the story key).
* ``rank``, ``cluster`` (same-story grouping: ``titles`` the headline rule,
  ``title_index`` matching titles without comparing every pair, ``union_find``) and
  ``assemble`` (a reader's digest from a tick's ranked pool); ``schedule`` (the next
  local digest time as a UTC instant).
* ``html`` (Telegram-HTML primitives: escape, links, UTF-16 length, cutting, packing) under
  ``render`` (the message layouts: digest, related coverage, breaking news).
* ``callbacks`` (every button's callback-data format, strictly decoded) and ``keyboard``
  (``Button`` rows: the one keyboard description, used by layouts, handlers and the outbox).

Nothing here touches Telegram or the database, so it is fast to test and to benchmark.
"""
