"""What a plugin's templates render, and where each rendered line comes from.

- :mod:`.matrix`: the raw configs every model is configured with (the config matrix);
- :mod:`.literals`: the values the templates compare parameters with, feeding the matrix;
- :mod:`.branches`: which jinja2 branches a render took (branch coverage);
- :mod:`.shipping`: which templates a build ships, and why one is missing;
- :mod:`.sourcemap`: a broken generated line traced to the template line that wrote it;
- :mod:`.diffing`: two renders of one model compared (``--provd-diff``).
"""
