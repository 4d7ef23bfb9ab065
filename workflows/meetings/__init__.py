"""Meeting recordings into notes: ingest, watch a folder, citations, speakers, slides."""
