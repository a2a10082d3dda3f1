"""A target that fails to import: a helper it calls at import time raises."""


import adcheck as ad


@ad.primitive
def double(x):
    return 2 * x


def load_table():
    raise ValueError("table.csv is missing a header row")


TABLE = load_table()
