"""The PyTorch side of `scripts/bench-reward-model.sh`: the same reward-model training step and
scoring as `juror train` / `juror score`, on the CPU, timed.

The model is the same checkpoint (transformers' BertModel), mean-pooled, with a linear head; the
loss is Bradley-Terry; AdamW with the backbone and the head at their own learning rates. Pairs
are cut as Juror cuts them: the response keeps its beginning and at least half the room, the
prompt keeps its end. Prints one JSON line: seconds per step and per scored sequence.

    python bench/reward_model_torch.py MODEL_DIR PAIRS.jsonl --threads 2 --steps 12 --batch 8 --max-length 128
"""
import argparse
import json
import os
import statistics
import time


def common_prompt(chosen, rejected):
    end = 0
    for index, (left, right) in enumerate(zip(chosen, rejected)):
        if left != right:
            break
        end = index + 1
    if end < min(len(chosen), len(rejected)) and chosen[:end].endswith(" "):
        end -= 1
    return end


def read_pairs(path):
    pairs = []
    with open(path) as lines:
        for line in lines:
            row = json.loads(line)
            chosen, rejected = row["chosen"], row["rejected"]
            if "prompt" in row:
                pairs.append((row["prompt"], chosen, rejected))
            else:
                end = common_prompt(chosen, rejected)
                pairs.append((chosen[:end], chosen[end:], rejected[end:]))
    return pairs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("pairs")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--score", type=int, default=256, help="sequences to score")
    args = parser.parse_args()

    import torch
    from tokenizers import Tokenizer
    from transformers import BertModel

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    tokenizer = Tokenizer.from_file(os.path.join(args.model, "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    room = args.max_length - 3

    def encode(prompt, response):
        prompt_ids = tokenizer.encode(prompt, add_special_tokens=False).ids
        response_ids = tokenizer.encode(response, add_special_tokens=False).ids
        if len(prompt_ids) + len(response_ids) > room:
            keep_response = min(len(response_ids), max(room - len(prompt_ids), (room + 1) // 2))
            keep_prompt = min(len(prompt_ids), room - keep_response)
            prompt_ids = prompt_ids[len(prompt_ids) - keep_prompt:]
            response_ids = response_ids[:keep_response]
        cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
        ids = [cls] + prompt_ids + [sep] + response_ids + [sep]
        types = [0] * (len(prompt_ids) + 2) + [1] * (len(response_ids) + 1)
        return ids, types

    def tensors(sequences):
        length = max(len(ids) for ids, _ in sequences)
        ids = torch.zeros(len(sequences), length, dtype=torch.long)
        types = torch.zeros_like(ids)
        mask = torch.zeros(len(sequences), length)
        for row, (sequence, segment) in enumerate(sequences):
            ids[row, :len(sequence)] = torch.tensor(sequence)
            types[row, :len(segment)] = torch.tensor(segment)
            mask[row, :len(sequence)] = 1
        return ids, types, mask

    backbone = BertModel.from_pretrained(args.model, add_pooling_layer=False)
    head = torch.nn.Linear(backbone.config.hidden_size, 1)
    backbone.train()  # training mode, with dropout off as in Juror's encoder
    for module in backbone.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0

    def score(ids, types, mask):
        hidden = backbone(input_ids=ids, token_type_ids=types, attention_mask=mask).last_hidden_state
        pooled = (hidden * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True).clamp(min=1e-9)
        return head(pooled).squeeze(-1)

    optimizer = torch.optim.AdamW([{"params": backbone.parameters(), "lr": 5e-5}, {"params": head.parameters(), "lr": 1e-3}], weight_decay=0.01)
    pairs = read_pairs(args.pairs)
    encoded = [(encode(p, c), encode(p, r)) for p, c, r in pairs[: args.batch * (args.steps + 1)]]
    times = []
    for step in range(args.steps + 1):
        batch = encoded[step * args.batch:(step + 1) * args.batch]
        started = time.perf_counter()
        chosen = score(*tensors([c for c, _ in batch]))
        rejected = score(*tensors([r for _, r in batch]))
        loss = torch.nn.functional.softplus(rejected - chosen).mean()
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(backbone.parameters()) + list(head.parameters()), 1.0)
        optimizer.step()
        if step > 0:  # the first step warms up
            times.append(time.perf_counter() - started)

    backbone.eval()
    # What `juror score` does in the bench, tokenizing included: the chosen and the rejected
    # response of each pair, in batches of like lengths.
    started = time.perf_counter()
    sequences = [encode(p, response) for p, c, r in pairs[: args.score // 2] for response in (c, r)]
    sequences.sort(key=lambda sequence: len(sequence[0]))
    with torch.no_grad():
        for start in range(0, len(sequences), 32):
            score(*tensors(sequences[start:start + 32]))
    scoring = time.perf_counter() - started
    print(json.dumps({"step_seconds": statistics.mean(times), "steps": len(times), "threads": args.threads,
                      "sequences_per_second": len(sequences) / scoring, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
