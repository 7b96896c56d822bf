"""CTR evaluation: rankers trained with and without kgrec embeddings on the same data and splits."""
