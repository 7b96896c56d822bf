"""An answer reads the same whether this run asked it or the cache had it."""

from pathlib import Path

from pipelines.extract.answering import from_cache
from pipelines.extract.cache import AnswerCache
from pipelines.extract.vllm_stage import postprocess
from tests.unit.pipelines.extract.test_vllm_stage import task_row


def test_a_cached_answer_has_the_text_of_the_asked_one(tmp_path: Path) -> None:
    row = {**task_row(), "generated_text": '{ "facts" : "Ein Zelt für zwei." }', "num_input_tokens": 8,
           "num_generated_tokens": 9}
    asked = postprocess(row, str(tmp_path))
    entry = AnswerCache(str(tmp_path)).get(asked["key"])
    assert entry is not None
    assert from_cache(task_row(), entry)["answer_json"] == asked["answer_json"] == '{"facts":"Ein Zelt für zwei."}'
