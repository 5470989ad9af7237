"""A quick, honest check that a causal LM loads and answers: two obvious sentiment prompts.

``sentiment_smoke(name)`` loads the model (timed), renders each review through the chat template
where the tokenizer has one (plain text ending in ``Sentiment (positive or negative):`` for a
base model), and reports the log-probability of each label as the continuation, its argmax, and
a short greedy generation of the two prompts in one left-padded batch. Used by
``mollia models smoke NAME`` and by the tests on the real smollm2 weights.
"""

from __future__ import annotations

import time

REVIEWS = (
    ("I absolutely loved this movie, it was wonderful", "positive"),
    ("This was the worst film, boring and awful", "negative"),
)
LABELS = ("positive", "negative")


def sentiment_prompt(tokenizer, review: str) -> tuple[str, str]:
    """(prompt, label prefix): chat-templated for an instruct model, plain text for a base one.

    After a chat template the answer starts a fresh assistant turn (no leading space); after
    ``...:`` in plain text it follows a space, so the label is scored as `` positive``.
    """
    user = f"Classify the sentiment of this review as positive or negative.\nReview: {review}\nAnswer with one word."
    if getattr(tokenizer, "chat_template", None):
        messages = [{"role": "user", "content": user}]
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True), ""
    return f"Review: {review}\nSentiment (positive or negative):", " "


def label_logprob(model, tokenizer, prompt: str, label: str) -> float:
    """log p(label | prompt), summed over the label's tokens (tokenisation cannot favour a label)."""
    import torch

    chat = bool(getattr(tokenizer, "chat_template", None))
    # a chat template already starts with its own special tokens; a plain prompt gets the BOS
    p = tokenizer(prompt, add_special_tokens=not chat).input_ids
    lab = tokenizer(label, add_special_tokens=False).input_ids
    with torch.no_grad():
        logp = model(torch.tensor([p + lab], device=model.device)).logits[0].float().log_softmax(-1)
    return float(sum(logp[len(p) - 1 + i, t] for i, t in enumerate(lab)))


def sentiment_smoke(name: str, device="cpu", max_new_tokens: int = 4, model_and_tokenizer=None) -> dict:
    """Load ``name`` (unless given) and answer the two reviews; a dict of timings and answers."""
    from mollia.models.load import load_causal_lm

    start = time.perf_counter()
    model, tokenizer = model_and_tokenizer or load_causal_lm(name, device=device)
    load_s = time.perf_counter() - start
    chat = bool(getattr(tokenizer, "chat_template", None))
    rows, prompts = [], []
    for review, expected in REVIEWS:
        prompt, prefix = sentiment_prompt(tokenizer, review)
        prompts.append(prompt)
        scores = {lab: label_logprob(model, tokenizer, prompt, prefix + lab) for lab in LABELS}
        rows.append({"review": review, "expected": expected, "logprob": scores, "argmax": max(scores, key=scores.get)})
    batch = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=not chat).to(model.device)
    start = time.perf_counter()
    out = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False)
    generate_s = time.perf_counter() - start
    texts = tokenizer.batch_decode(out[:, batch["input_ids"].shape[1]:], skip_special_tokens=True)
    for row, text in zip(rows, texts):
        row["generated"] = text
    return {"model": name, "chat_template": chat, "load_s": load_s, "generate_s": generate_s, "rows": rows}
