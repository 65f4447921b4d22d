# -*- coding: utf-8 -*-

# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Errors of the collection's own checks.

PRIVATE to the collection: not a public API, may change without notice.
"""


class LayerInputError(Exception):
    """Bad input found before anything is written to AWS.

    The message starts with the name of the option at fault.
    """
