"""The screening pipeline on a dask distributed cluster (see :mod:`orbitwatch.distributed.cluster`)."""
