import random
import re

import pytest
from conftest import CONFIGS
from hypothesis import given, settings
from hypothesis import strategies as st

from era_deap.config import ConfigError
from era_deap.space.genome import GENES, Individual
from era_deap.space.space import DEFAULT_GENES, InvalidGenome, SearchSpace, default_space, load_space

SPACE = load_space(CONFIGS / "space.yaml")


def test_cardinalities_of_both_spaces():
    assert (SPACE.n_configurations, SPACE.n_unique) == (13_296_960, 10_637_568)
    text = load_space(CONFIGS / "space-thesis-text.yaml")
    assert (text.n_configurations, text.n_unique) == (13_296_960, 8_864_640)


def test_unique_count_equals_enumeration_of_canonical_keys():
    # A small space, counted by brute force over every configuration.
    genes = dict(DEFAULT_GENES, s1=[0, 1], s2=[1, 2], s3=[1], s4=[2, 3], filters=[1, 2, 4, 16, 64])
    small = SearchSpace(genes)
    import itertools
    keys = {small.key(list(c)) for c in itertools.product(*(g.values for g in small.genes))}
    assert len(keys) == small.n_unique
    assert small.n_configurations == 2 * 2 * 2 * 1 * 2 * 5 * 2 * 5


def test_default_space_equals_the_shipped_file():
    assert default_space().describe() == SPACE.describe()


def test_canonical_clamps_group_size_to_a_representative_in_the_space():
    # filters 2: group sizes 2, 4, 8, 32 all mean "2 filters per group" -> representative 2
    for g in (2, 4, 8, 32):
        assert SPACE.canonical(["basic", 0, 1, 1, 1, 2, 2, g]) == ["basic", 0, 1, 1, 1, 2, 2, 2]
    # filters 16: 32 is clamped to 16, which is not an allowed value: 32 represents itself
    assert SPACE.canonical(["basic", 0, 1, 1, 1, 16, 2, 32])[7] == 32
    assert SPACE.canonical(["basic", 0, 1, 1, 1, 16, 2, 8])[7] == 8
    assert isinstance(SPACE.canonical(["basic", 0, 1, 1, 1, 16, 2, 8]), Individual)


def test_key_is_stable_readable_and_shared_by_duplicates():
    assert SPACE.key(["basic", 0, 18, 18, 18, 8, 2, 8]) == "basic-0.18.18.18-f8-u2-g8"
    assert SPACE.key(["basic", 0, 18, 18, 18, 8, 2, 32]) == "basic-0.18.18.18-f8-u2-g8"
    assert SPACE.key(["bottleneck", 3, 6, 3, 1, 64, 2, 1]) == "bottleneck-3.6.3.1-f64-u2-g1"


def test_invalid_genomes_are_refused_with_the_gene_named():
    with pytest.raises(InvalidGenome, match=r"filters: expected one of \[2, 4, 8, 16, 32, 64\], got 128"):
        SPACE.check(["basic", 0, 1, 1, 1, 128, 2, 8])
    with pytest.raises(InvalidGenome, match="s2"):
        SPACE.check(["basic", 0, 0, 1, 1, 8, 2, 8])
    with pytest.raises(InvalidGenome, match="8 genes"):
        SPACE.check(["basic", 0, 1])
    assert not SPACE.is_valid(["basic", 0, 1, 1, 1, 8.0, 2, 8])  # 8.0 is not the integer 8


def test_neighbourhood_follows_the_hypermapper_rule():
    genome = ["basic", 9, 1, 18, 5, 8, 2, 4]
    neighbours = SPACE.neighbours(genome)
    changed = {}
    for n in neighbours:
        diff = [GENES[i] for i in range(8) if n[i] != genome[i]]
        if diff == ["filters", "group_size"]:  # canonical form of the same group size under new filters
            assert min(n[7], n[5]) == min(genome[7], n[5])
            diff = ["filters"]
        assert len(diff) == 1
        changed.setdefault(diff[0], []).append(n[GENES.index(diff[0])])
    assert changed["block"] == ["bottleneck"]
    assert sorted(changed["s1"]) == [7, 8, 10, 11]     # 19 values: +-2 positions
    assert sorted(changed["s2"]) == [2, 3]             # at the lower edge
    assert sorted(changed["s3"]) == [16, 17]           # at the upper edge
    assert sorted(changed["filters"]) == [2, 4, 16, 32]  # 6 values: +-2 positions
    assert changed["filter_update"] == [1]
    assert sorted(changed["group_size"]) == [1, 2, 8]  # 5 values: all others; 32 is 8 clamped (duplicate)
    assert len(neighbours) == 1 + 4 + 2 + 2 + 4 + 4 + 1 + 3


def test_space_file_errors_name_file_gene_and_expectation(tmp_path):
    bad = tmp_path / "space.yaml"
    bad.write_text("genes:\n  block: [basic, bottleneck]\n  s1: {min: 0, max: 18}\n")
    with pytest.raises(ConfigError, match=r"space.yaml: genes.s2: missing"):
        load_space(bad)
    bad.write_text("genes:\n  blocks: [basic]\n")
    with pytest.raises(ConfigError, match=r"space.yaml:2: unknown key genes.blocks; did you mean genes.block\?"):
        load_space(bad)
    text = (CONFIGS / "space.yaml").read_text().replace("[2, 4, 8, 16, 32, 64]", "[2, 4, 6]")
    bad.write_text(text)
    with pytest.raises(ConfigError, match=r"genes.group_size: expected a group size dividing filters \(6\), got 4"):
        load_space(bad)



@pytest.mark.parametrize("gene, value", [("block", "wide"), ("s1", -1), ("s2", 0), ("filters", 0),
                                         ("filter_update", 1.5), ("group_size", True)])
def test_a_space_refuses_a_value_with_the_rule_the_evaluator_applies(gene, value):
    # One home for what can be built (space/architecture.py): the space file's check and the
    # evaluator's arch_problem explain a bad value alike.
    from era_deap.space.architecture import arch_problem
    from era_deap.space.genome import to_arch
    genome = [DEFAULT_GENES[g][-1] for g in GENES]
    genome[GENES.index(gene)] = value
    problem = arch_problem(to_arch(genome))
    assert problem.startswith(f"{gene}: expected ")
    if gene == "block":   # a space names the set it expects
        problem = f"block: expected values among basic, bottleneck, got {value!r}"
    with pytest.raises(ConfigError, match=re.escape(f"genes.{problem}")):
        SearchSpace(dict(DEFAULT_GENES, **{gene: [value]}))


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=2**32))
def test_samples_and_their_neighbours_are_valid_and_canonical(seed):
    rng = random.Random(seed)
    genome = SPACE.sample(rng)
    assert SPACE.is_valid(genome)
    unique = SPACE.sample_unique(rng)
    assert SPACE.canonical(unique) == unique
    for n in SPACE.neighbours(genome):
        assert SPACE.is_valid(n)
        assert SPACE.canonical(n) == n
        assert SPACE.key(n) != SPACE.key(genome)
    code = SPACE.encode(genome)
    assert len(code) == 8 and all(0.0 <= x <= 1.0 for x in code)
    assert SPACE.encode(genome) == SPACE.encode(SPACE.canonical(genome))


def test_sample_unique_is_uniform_over_networks():
    # filters {2, 16} x group sizes {1, 2, 4, 8, 32}: 2 networks with filters 2, 5 with filters 16.
    genes = dict(DEFAULT_GENES, s1=[0], s2=[1], s3=[1], s4=[1], filters=[2, 16], filter_update=[1], block=["basic"])
    small = SearchSpace(genes)
    rng = random.Random(0)
    counts = {}
    for _ in range(7000):
        key = small.key(small.sample_unique(rng))
        counts[key] = counts.get(key, 0) + 1
    assert len(counts) == small.n_unique == 7
    assert all(800 < c < 1200 for c in counts.values()), counts
