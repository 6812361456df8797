"""webnets' fuzzer: real exported files, mutated with a seeded mutator per input kind, fed to every
entry point that reads them. Each case must convert (and verify) or end as one ExportError naming
the problem and the fix, leaving no partial output; anything else is a defect.

    seeds.py     the real files mutated: .keras, .h5, SavedModel, exports, a CDN tree, a Teach download
    mutate.py    the mutators (bytes, JSON, HDF5, .keras archives)
    kinds.py     each input kind: seeds, mutator, and the webnets calls that read it
    campaign.py  cases run in a watched worker process (crash, hang, memory); defects kept as regressions
    regressions/ every defect's case, replayed by tests/test_fuzz.py

`make fuzz` runs 1,000 cases per kind; `make test` runs a few hundred (tests/test_fuzz.py).
"""
