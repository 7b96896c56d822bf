"""The curation workbench (`kgrec curate ui`): the review queue, relation cards and decisions in a browser."""
