"""Training the shipped sentiment model (``make train-sentiment``); needs the ``train`` extra.

Nothing here runs in the service: the service reads only the weights file it writes.
"""
