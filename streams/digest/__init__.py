"""The digest: an HTML report per brand with charts, from Elasticsearch (`lytter digest`, and the worker's schedule).

* :mod:`~streams.digest.queries`: Elasticsearch aggregations -> plain data (:class:`DigestData`).
* :mod:`~streams.digest.charts`: plain data -> PNG charts (matplotlib, Agg).
* :mod:`~streams.digest.report`: HTML (charts inline) and plain text.
* :mod:`~streams.digest.build`: one digest, step by step (:func:`build_digest`).
* :mod:`~streams.digest.mail`: the e-mail (text + HTML with the charts as cid: parts) over SMTP.
* :mod:`~streams.digest.schedule`: when the worker sends it (LYTTER_DIGEST_SCHEDULE).
"""
