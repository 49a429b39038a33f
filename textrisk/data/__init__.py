"""Data: shared benchmarks and labelled files, documents to score, the text check, chunking, SENTiVENT,
unlabelled text."""
