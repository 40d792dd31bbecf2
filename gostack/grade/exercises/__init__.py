"""One module per exercise, ``eNN_slug.py``, each defining ``EXERCISE`` (a
:class:`gostack.grade.spec.Exercise`): its functions, reference, aspects and points, case
generator, and bug zoo. :mod:`gostack.grade.catalog` finds them by name; nothing else lists
them."""
