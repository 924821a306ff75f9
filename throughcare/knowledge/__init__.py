"""The protocol as validated data: the schema and loader of knowledge/, the knowledge search, the coverage map, the
grounding check against the documents, and the NLU patterns generated from it."""
