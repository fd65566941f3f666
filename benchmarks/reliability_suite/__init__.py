"""The reliability and security suite (issue 6): each module is one category.

* :mod:`.seeds`    - valid files of every format, the starting points of the fuzzer
* :mod:`.mutate`   - seeded mutations (bit flips, truncation, header edits, huge sizes, ...)
* :mod:`.fuzz`     - feed mutated files to readers, validator, bundle loading and predict, in a
                     watched worker process (a hang is caught, memory is capped)
* :mod:`.kills`    - SIGKILL during training, export and predict; resume and check
* :mod:`.hostile`  - tampered / pickled / escaping bundles and hostile datasets
* :mod:`.privacy`  - DICOM identifiers never reach an output byte
* :mod:`.load`     - resident memory over many predictions; two writers in one folder

``python benchmarks/reliability.py`` runs them all and writes results/reliability.json;
``Testing/test_reliability.py`` runs the same code with small counts in ``make test``.
"""
