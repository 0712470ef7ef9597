"""Choosing nominees under cluster places and a 3T minimum, on hand-made rankings."""

from __future__ import annotations

from decimal import Decimal
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kipp.selection.nominees import Candidate, Infeasible, Rules, proportional_places, select

D = Decimal


def c(id_, score, cluster, is_3t=False):
    return Candidate(id_, D(score), cluster, is_3t, (id_,))


RANKING = [c("k1", 92, "kota"), c("k2", 90, "kota"), c("k3", 88, "kota"), c("b1", 86, "kabupaten"),
           c("k4", 85, "kota"), c("b2", 80, "kabupaten", True), c("b3", 70, "kabupaten", True),
           c("m1", 60, "kementerian")]


def test_without_rules_the_list_is_the_top_of_the_ranking():
    chosen = select(RANKING, Rules(size=4))
    assert chosen.chosen == chosen.unconstrained == ["k1", "k2", "k3", "b1"]
    assert chosen.displacements == []


def test_cluster_places_change_the_list_and_say_who_displaced_whom():
    result = select(RANKING, Rules(size=4, places={"kota": 2, "kabupaten": 1, "kementerian": 1}))
    assert result.unconstrained == ["k1", "k2", "k3", "b1"]
    assert result.chosen == ["k1", "k2", "b1", "m1"]
    [moved] = result.displacements
    assert (moved.entered, moved.displaced, moved.rule, moved.score_lost) == ("m1", "k3", "cluster:kementerian",
                                                                             D(28))
    assert result.cost_by_rule == {"cluster:kementerian": D(28)}


def test_a_3t_minimum_takes_the_best_3t_proposals_within_the_places():
    result = select(RANKING, Rules(size=4, places={"kota": 2, "kabupaten": 2}, min_3t=1))
    # The unconstrained choice within places would be b1 + b2 anyway (b2 is 3T): nothing lost.
    assert result.chosen == ["k1", "k2", "b1", "b2"]
    stricter = select(RANKING, Rules(size=4, places={"kota": 2, "kabupaten": 2}, min_3t=2))
    assert stricter.chosen == ["k1", "k2", "b2", "b3"]
    assert [(d.entered, d.displaced, d.rule, d.score_lost) for d in stricter.displacements] == [
        ("b2", "k3", "cluster:kabupaten", D(8)), ("b3", "b1", "3t", D(16))]
    assert stricter.cost_by_rule == {"cluster:kabupaten": D(8), "3t": D(16)}


def test_the_passing_grade_keeps_weak_proposals_out_and_names_unfilled_places():
    result = select(RANKING, Rules(size=4, places={"kota": 2, "kabupaten": 1, "kementerian": 1},
                                   passing_grade=D(75)))
    assert "m1" not in result.chosen and result.chosen == ["k1", "k2", "b1"]
    assert result.shortfalls == ["kementerian: 1 places, 0 eligible"]


def test_impossible_rules_are_refused():
    with pytest.raises(Infeasible):
        select(RANKING, Rules(size=2, places={"kota": 2}, min_3t=1))


def test_proportional_places_by_largest_remainder():
    assert proportional_places({"kota": 50, "kabupaten": 30, "kementerian": 20}, 10) == {
        "kota": 5, "kabupaten": 3, "kementerian": 2}
    # 198 nominees over 2,000 passed proposals: remainders decide the last places.
    places = proportional_places({"kementerian": 205, "lembaga": 120, "provinsi": 310, "kabupaten": 900,
                                  "kota": 400, "bumn": 65}, 198)
    assert sum(places.values()) == 198 and places["kabupaten"] == 89 and places["bumn"] == 6


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(50, 100), st.sampled_from(["a", "b", "c"]), st.booleans()),
                min_size=4, max_size=9),
       st.integers(1, 2), st.integers(0, 1))
def test_the_choice_is_the_best_list_that_keeps_the_rules(rows, per_cluster, min_3t):
    candidates = [c(f"p{i}", score, cluster, t) for i, (score, cluster, t) in enumerate(rows)]
    places = {cl: min(per_cluster, sum(1 for x in candidates if x.cluster == cl)) for cl in "abc"}
    size = sum(places.values())
    rules = Rules(size=size, places=places, min_3t=min_3t)
    best = None
    for combo in combinations(candidates, size):
        if all(sum(1 for x in combo if x.cluster == cl) == n for cl, n in places.items()) and \
                sum(1 for x in combo if x.is_3t) >= min_3t:
            total = sum(x.score for x in combo)
            best = total if best is None or total > best else best
    if best is None:
        with pytest.raises(Infeasible):
            select(candidates, rules)
        return
    result = select(candidates, rules)
    by_id = {x.id: x for x in candidates}
    assert sum(by_id[i].score for i in result.chosen) == best
