"""The help desk's retrieval and confidence on its labelled questions
(assistant/data/help_questions.json): how often a right page is ranked first / in the top three,
the confidence threshold's precision and recall (confident = on topic), and the threshold the
labelled set itself would choose, over all of it and chosen on one half, measured on the other."""
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from assistant import evaluation  # noqa: E402
from assistant.docs_index import DocsIndex  # noqa: E402
from config import Config  # noqa: E402


def main() -> None:
    index = DocsIndex(Config.HELP_DOCS_DIR)
    started = time.perf_counter()
    index.search("warm up", 1)  # builds the index
    build_seconds = time.perf_counter() - started
    started = time.perf_counter()
    scored = evaluation.score_all(index)
    per_question_ms = (time.perf_counter() - started) * 1000 / len(scored)
    on = [s for s in scored if s.on_topic]
    threshold = Config.HELP_CONFIDENCE_THRESHOLD
    precision, recall = evaluation.precision_recall(scored, threshold)
    best = evaluation.choose_threshold(scored)
    dev, held_out = scored[0::2], scored[1::2]
    dev_threshold = evaluation.choose_threshold(dev)
    held_precision, held_recall = evaluation.precision_recall(held_out, dev_threshold)
    for s in on:
        if s.ranked[:1] and s.ranked[0] not in s.pages:
            print(f"  top-1 miss: {s.question!r} wants {'/'.join(s.pages)}, "
                  f"got {', '.join(s.ranked[:3])}")
    print(f"helpdesk_pages: {len(index.pages())}")
    print(f"helpdesk_questions_on_topic: {len(on)}")
    print(f"helpdesk_questions_off_topic: {len(scored) - len(on)}")
    print(f"helpdesk_index_build_s: {build_seconds:.2f}")
    print(f"helpdesk_search_ms: {per_question_ms:.1f}")
    print(f"helpdesk_top1_page_hit: {evaluation.hit_rate(scored, 1):.3f}")
    print(f"helpdesk_top3_page_hit: {evaluation.hit_rate(scored, 3):.3f}")
    print(f"helpdesk_threshold: {threshold:.3f}")
    print(f"helpdesk_confident_precision: {precision:.3f}")
    print(f"helpdesk_confident_recall: {recall:.3f}")
    print(f"helpdesk_best_threshold_all: {best:.3f}")
    print(f"helpdesk_threshold_dev_half: {dev_threshold:.3f}")
    print(f"helpdesk_held_out_precision: {held_precision:.3f}")
    print(f"helpdesk_held_out_recall: {held_recall:.3f}")


if __name__ == "__main__":
    main()
