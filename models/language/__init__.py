"""Language identification of short texts: the evaluation set and the evaluation of lingua alone vs lingua
with the stream's priors (``streams.processing.language_priors``)."""
