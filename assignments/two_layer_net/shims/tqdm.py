"""Stand-in for `tqdm` in the grading worker (`[sandbox] provide`): the iterable itself, no progress bar."""


def tqdm(iterable=None, *args, **kwargs):
    return iterable if iterable is not None else []


def trange(*args, **kwargs):
    return range(*args)
