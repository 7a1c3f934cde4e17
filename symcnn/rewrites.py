"""Rewrites of a layer's weighted sum read off its derived template: sums that can be taken first.

A weighted sum z = sum over (summed indices) of omega[...] xi[...] whose weight entry does not
hold some summed index c has the weight as a common factor of all terms that differ only in c.
sympy's partial by one weight then is a sum of patch entries over c (a shared sum), and
sum_{c,u,v} w_{u,v} x_{c,u,v} = sum_{u,v} w_{u,v} (sum_c x_{c,u,v}): summing the inputs over c
first does the multiplications once instead of once per value of c. Which axes factor is found
from the derived partial (the patch entries it sums), never from the layer's kind or flags.

>>> from symcnn.differentiate import derive_template
>>> from symcnn.layers import Conv2D
>>> shared = derive_template(Conv2D(2, 3, shared_channels=True).template((3, 6, 6)))
>>> shared.partials["weighted_sum"].generic[shared.generic_kernel_entry]
xi[0, u_1, v_1] + xi[1, u_1, v_1] + xi[2, u_1, v_1]
>>> presummed_axes(shared), presummed_axes(derive_template(Conv2D(2, 3).template((3, 6, 6))))
((0,), ())
"""

from __future__ import annotations

import math

import sympy


def presummed_axes(template) -> tuple[int, ...]:
    """Patch axes to sum the inputs over before the weighted sum, from a derived indexed ``template``:
    those along which the partial by one weight, d zeta / d omega[k], sums every patch entry."""
    if template.weighted_sum is None or not template.generic_index:
        return ()
    by_weight = template.partials["weighted_sum"].generic.get(template.generic_kernel_entry, sympy.S.Zero)
    terms = sympy.Add.make_args(by_weight)
    if len(terms) < 2 or not all(isinstance(term, sympy.Indexed) for term in terms):
        return ()
    indices = [term.indices for term in terms]
    distinct = [len({index[axis] for index in indices}) for axis in range(len(indices[0]))]
    # every combination of the varying axes exactly once (the other axes, one value each): a full shared sum
    full = len(set(indices)) == len(terms) == math.prod(distinct)
    return tuple(axis for axis, count in enumerate(distinct) if count > 1) if full else ()
