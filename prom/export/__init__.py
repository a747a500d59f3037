"""Research exports: analysis-ready datasets, their codebook and manifest, and per-arm summaries.

Pure code (pandas and numpy; no Flask, no SQL), in three steps that do not know each other:

- **build** (`selection`, `datasets`, `summary`, `statistics`): plain frames of what the
  database holds for a chunk of participants (`datasets.Chunk`) become the layouts' DataFrames,
  with stable column names: one response per participant, timepoint and instrument (the
  duplicate rules), then scores, items, wide rows with change and responder flags, adverse
  events, and the per-arm summary with its between-arm estimates;
- **describe** (`design`, `codebook`, `pseudonym`): the study's schedule and instrument
  definitions say which columns exist and what each one means, before any data are read;
  participants are named by keyed codes unless the export is identified;
- **write** (`writers`, `package`): each format (CSV, Parquet, Stata, SPSS, Excel) only formats,
  chunk by chunk where the format allows; `package` adds the codebook and the manifest with the
  SHA-256 of every file, and zips them.

`prom.services.exports` reads the database in chunks of participants, checks who may export what,
and audits every export.
"""
