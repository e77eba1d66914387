"""The recommender alone, over small synthetic catalogs: taste, decay, Bayesian quality, MMR
diversity, Thompson exploration, reasons, and the vector index."""
import numpy as np

from discovery.embeddings import normalise
from discovery.index import VectorIndex
from discovery.recommender import DAY, Catalog, Recommender, Settings, UserProfile

NOW = 1_800_000_000.0
DIM = 16


def make_catalog(n_per_topic=20, topics=3, new=(), likes=None, passes=None, settings=Settings(),
                 seed=0, creators=None):
    """Topic t's characters point near axis t; names are 't<topic>-<i>'."""
    rng = np.random.default_rng(seed)
    vectors, names, tags = [], [], []
    for t in range(topics):
        for i in range(n_per_topic):
            v = np.zeros(DIM)
            v[t] = 1.0
            vectors.append(v + rng.normal(0, 0.15, DIM))
            names.append(f"t{t}-{i}")
            tags.append([f"topic{t}"])
    n = len(names)
    created = np.full(n, NOW - 100 * DAY)
    created[list(new)] = NOW - DAY
    return Catalog(ids=np.arange(1, n + 1), vectors=normalise(np.array(vectors)),
                   created_at=created, creator_ids=creators if creators is not None else [-1] * n,
                   names=names, tags=tags, mature=[False] * n, languages=["en"] * n,
                   likes=likes, passes=passes, now=NOW, settings=settings)


def topic_of(catalog, pos):
    return catalog.names[pos].split("-")[0]


def everyone(catalog):
    return np.ones(len(catalog), dtype=bool)


def test_likes_pull_the_deck_towards_their_topic():
    catalog = make_catalog()
    user = UserProfile(likes=[(20, 0.0, 1.0), (21, 0.0, 1.0)])  # two of topic 1
    eligible = everyone(catalog)
    eligible[[20, 21]] = False
    picks = Recommender(Settings(explore_share=0, mmr_lambda=1.0)).recommend(
        catalog, user, 5, eligible, np.random.default_rng(0), NOW)
    assert [topic_of(catalog, p.position) for p in picks] == ["t1"] * 5
    assert all(p.reason.startswith("Because you liked t1-") for p in picks)


def test_passes_push_away_and_interests_seed_a_cold_start():
    catalog = make_catalog()
    axis2 = np.zeros(DIM, np.float32)
    axis2[2] = 1.0
    user = UserProfile(interest_vector=axis2, interest_tags=frozenset({"topic2"}),
                       passes=[(0, 0.0)])
    taste = Recommender().taste(catalog, user)
    assert np.argmax(taste) == 2 and taste[0] < 0
    picks = Recommender(Settings(explore_share=0)).recommend(
        catalog, user, 3, everyone(catalog), np.random.default_rng(0), NOW)
    assert {topic_of(catalog, p.position) for p in picks} == {"t2"}
    assert picks[0].reason == "Matches your interests: #topic2"


def test_old_swipes_weigh_less_than_recent_ones():
    catalog = make_catalog()
    half_life = Settings().half_life_days * DAY
    user = UserProfile(likes=[(0, 10 * half_life, 1.0), (20, 0.0, 1.0)])  # old t0, fresh t1
    taste = Recommender().taste(catalog, user)
    assert taste @ catalog.vectors[25] > 5 * (taste @ catalog.vectors[5])


def test_quality_is_a_bayesian_average_that_trusts_many_swipes_more():
    likes, passes = np.zeros(60), np.zeros(60)
    likes[0], passes[0] = 1, 0          # 1/1 liked: barely evidence
    likes[1], passes[1] = 80, 20        # 80 % over 100 swipes
    likes[2:], passes[2:] = 5, 5
    catalog = make_catalog(likes=likes, passes=passes)
    quality = catalog.quality(np.array([0, 1, 2]))
    assert quality[1] > quality[0] > quality[2] - 0.05
    assert catalog.popular_order()[0] == 1


def test_mmr_spreads_a_deal_across_topics():
    catalog = make_catalog()
    both = normalise(np.eye(DIM)[0] + np.eye(DIM)[1])
    user = UserProfile(interest_vector=both)
    recommender = Recommender(Settings(explore_share=0, mmr_lambda=0.3))
    picks = recommender.recommend(catalog, user, 6, everyone(catalog),
                                  np.random.default_rng(0), NOW)
    topics = [topic_of(catalog, p.position) for p in picks]
    assert topics.count("t0") >= 2 and topics.count("t1") >= 2


def test_thompson_exploration_deals_new_characters_and_learns_from_their_likes():
    new = list(range(50, 60))  # topic 2, new
    likes, passes = np.zeros(60), np.zeros(60)
    likes[:50], passes[:50] = 30, 10
    likes[50], passes[55] = 40, 40      # one new favourite, one new flop
    catalog = make_catalog(new=new, likes=likes, passes=passes)
    recommender = Recommender(Settings(explore_share=0.3))
    rng = np.random.default_rng(1)
    shown = {p: 0 for p in new}
    for _ in range(200):
        for pick in recommender.recommend(catalog, UserProfile(), 10, everyone(catalog), rng, NOW):
            if pick.explored:
                shown[pick.position] += 1
                assert pick.reason == "New character"
    assert sum(shown.values()) >= 200 * 10 * 0.3 * 0.8
    assert shown[50] > shown[55]
    assert 0 not in (shown[p] for p in new if p not in (50, 55))


def test_new_creators_are_explored_too():
    creators = [1] * 59 + [2]
    catalog = make_catalog(creators=creators)
    catalog.created_at[59] = NOW - 2 * DAY
    catalog.created_at[:59] = NOW - 400 * DAY
    catalog.refresh_flags(NOW)
    assert catalog.new_creator[59] and not catalog.new_creator[0]


def test_only_eligible_characters_are_dealt_and_never_twice():
    catalog = make_catalog()
    eligible = np.zeros(len(catalog), dtype=bool)
    eligible[[3, 33, 53]] = True
    user = UserProfile(likes=[(0, 0.0, 1.0)])
    picks = Recommender().recommend(catalog, user, 10, eligible, np.random.default_rng(0), NOW)
    assert sorted(p.position for p in picks) == [3, 33, 53]


def test_hnsw_index_finds_nearly_what_exact_search_finds():
    rng = np.random.default_rng(0)
    vectors = normalise(rng.normal(size=(3000, 32)))
    queries = normalise(rng.normal(size=(50, 32)))
    exact = VectorIndex(vectors)
    approx = VectorIndex(vectors, exact_below=1000, approx="hnsw")
    assert exact.exact and not approx.exact
    _, truth = exact.search(queries, 10)
    _, found = approx.search(queries, 10)
    recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found)])
    assert recall >= 0.9


def test_ivf_index_finds_nearly_what_exact_search_finds_on_clustered_vectors():
    """Large catalogs get an inverted file: characters cluster by what they are about, and a
    taste query lies near a cluster."""
    rng = np.random.default_rng(0)
    centres = normalise(rng.normal(size=(40, 32)))
    vectors = normalise(centres[rng.integers(0, 40, 6000)] + rng.normal(0, 0.08, (6000, 32)))
    queries = normalise(centres[rng.integers(0, 40, 50)] + rng.normal(0, 0.08, (50, 32)))
    exact = VectorIndex(vectors)
    approx = VectorIndex(vectors, exact_below=1000)
    assert approx.kind.startswith("IVF")
    _, truth = exact.search(queries, 10)
    _, found = approx.search(queries, 10)
    recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found)])
    assert recall >= 0.9
