"""A tiny Hugging Face-format chat model with random weights, written in a fraction of a second.

vLLM needs a model in Hugging Face layout (config, tokenizer, weights); none can be downloaded
here, and the GGUF the local backend uses is not one. This one is enough to run the engine for
real (prompting, chat template, guided JSON decoding, accounting), never to judge its answers:
a BPE tokenizer trained on generated lines, and a random `LlamaForCausalLM` whose attention head
size (64) the CPU attention kernel accepts (16 is rejected).
"""

from __future__ import annotations

import itertools
from pathlib import Path

CHAT_TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|>\n{% endif %}")
WORDS = ["tent", "lamp", "stove", "boot", "sock", "jacket", "rope", "pan", "cup", "knife", "map", "torch", "bag", "hat", "glove", "complement", "substitute", "variant", "unrelated", "camping", "hikers", "kitchen", "item", "product", "pair", "relation", "confidence", "rationale", "direction", "facts", "used", "for", "by", "in", "with", "is", "a", "capable", "of"]


def _lines(n: int) -> list[str]:
    """Generated text covering the prompts' words and JSON punctuation."""
    cycle = itertools.cycle(WORDS)
    return [f'{{"{next(cycle)}": "{" ".join(next(cycle) for _ in range(i % 7 + 2))}", "n": 0.{i % 10}}}'
            for i in range(n)]


def write_tiny_chat_model(path: Path, seed: int = 0) -> Path:
    """Write the model (tokenizer, config, random weights) to `path`; return `path`."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    special = ["<unk>", "<s>", "</s>", "<pad>", "<|system|>", "<|user|>", "<|assistant|>"]
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.train_from_iterator(_lines(400), trainers.BpeTrainer(
        vocab_size=1000, special_tokens=special, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="<unk>", bos_token="<s>",
                                   eos_token="</s>", pad_token="<pad>")
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(path)
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(fast), hidden_size=256, intermediate_size=512, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=4096,
                         bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id,
                         pad_token_id=fast.pad_token_id, torch_dtype="float32")
    LlamaForCausalLM(config).save_pretrained(path)
    return path
