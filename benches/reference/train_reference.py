"""PyTorch reference for Cadenza's training benchmarks.

The same network (Embedding -> nn.LSTM -> Linear), recipe (Adam, global gradient-norm clipping,
random windows weighted by piece length, one of the stretched encodings, transposition by -3..+3)
and validation score (whole pieces, LSTM state carried across windows, first event not scored) as
Cadenza, on the exact data Cadenza trains on, exported by the benchmark:
  DATA.bin   little-endian uint16 event ids, all pieces back to back
  DATA.json  {"train": [[[offset, length] per stretch variant] per piece], "valid": [[offset, length]]}
Prints one JSON object: steps, tokens_per_s, seconds, valid_nll (with --validate).
"""

import argparse
import json
import time

import numpy as np
import torch
from torch import nn

VOCAB = 388  # events predicted; inputs also include the start event (id 388)


class Net(nn.Module):
    def __init__(self, embed, layers, hidden, dropout):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB + 1, embed)
        self.lstm = nn.LSTM(embed, hidden, layers, dropout=dropout if layers > 1 else 0.0, batch_first=True)
        self.head = nn.Linear(hidden, VOCAB)

    def forward(self, events, state=None):
        output, state = self.lstm(self.embedding(events), state)
        return self.head(output), state


def transpose(window, semitones):
    out = window.astype(np.int64).copy()
    notes = out < 256
    pitch = out[notes] % 128 + semitones
    if np.any((pitch < 21) | (pitch > 108)):
        return window.astype(np.int64)
    out[notes] = (out[notes] // 128) * 128 + pitch
    return out


class Sampler:
    def __init__(self, train, seq_len, seed, transpose=True):
        self.rng = np.random.default_rng(seed)
        self.transpose = transpose
        self.train = [variants for variants in train if all(len(v) > seq_len for v in variants)]
        self.cumulative = np.cumsum([len(variants[0]) for variants in self.train])
        self.seq_len = seq_len

    def batch(self, size):
        rows = []
        for _ in range(size):
            position = self.rng.integers(self.cumulative[-1])
            variants = self.train[int(np.searchsorted(self.cumulative, position, side="right"))]
            events = variants[self.rng.integers(len(variants))]
            start = self.rng.integers(len(events) - self.seq_len)
            window = events[start : start + self.seq_len + 1]
            shift = int(self.rng.integers(-3, 4)) if self.transpose else 0
            rows.append(transpose(window, shift) if shift else window.astype(np.int64))
        batch = torch.from_numpy(np.stack(rows))
        return batch[:, :-1], batch[:, 1:]


@torch.no_grad()
def score(net, pieces, window, batch_pieces=16):
    net.eval()
    total, count = 0.0, 0
    order = sorted(range(len(pieces)), key=lambda i: -len(pieces[i]))
    for group in range(0, len(order), batch_pieces):
        chosen = [pieces[i].astype(np.int64) for i in order[group : group + batch_pieces]]
        longest = max(len(p) for p in chosen)
        padded = np.zeros((len(chosen), longest + 1), dtype=np.int64)
        mask = np.zeros((len(chosen), longest + 1), dtype=np.float32)
        for row, piece in enumerate(chosen):
            padded[row, : len(piece)] = piece
            mask[row, 1 : len(piece)] = 1.0
        padded, mask = torch.from_numpy(padded), torch.from_numpy(mask)
        state = None
        for start in range(0, longest - 1, window):
            end = min(start + window, longest - 1)
            logits, state = net(padded[:, start:end], state)
            log_probs = torch.log_softmax(logits.float(), -1)
            picked = log_probs.gather(2, padded[:, start + 1 : end + 1].unsqueeze(-1)).squeeze(-1)
            total -= float((picked * mask[:, start + 1 : end + 1]).sum())
        count += sum(len(p) - 1 for p in chosen)
    net.train()
    return total / count


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    for name, kind in [("embed", int), ("layers", int), ("hidden", int), ("dropout", float), ("seq_len", int),
                       ("batch", int), ("lr", float), ("clip", float), ("seed", int)]:
        parser.add_argument("--" + name.replace("_", "-"), dest=name, type=kind, required=True)
    parser.add_argument("--steps", type=int)
    parser.add_argument("--minutes", type=float)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--validate", action="store_true")
    parser.add_argument("--valid-every", dest="valid_every", type=int, default=100)
    parser.add_argument("--plain", action="store_true",
                        help="the plainest loop: random windows of the unstretched pieces, no transposition")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    events = np.fromfile(args.data + ".bin", dtype="<u2")
    index = json.load(open(args.data + ".json"))
    train = [[events[o : o + n] for o, n in piece] for piece in index["train"]]
    valid = [events[o : o + n] for o, n in index["valid"]]

    net = Net(args.embed, args.layers, args.hidden, args.dropout)
    optimizer = torch.optim.Adam(net.parameters(), lr=args.lr)
    if args.plain:
        train = [variants[:1] for variants in train]
    sampler = Sampler(train, args.seq_len, args.seed, transpose=not args.plain)
    loss_fn = nn.CrossEntropyLoss()
    # Cadenza validates while it trains (a fixed subset every --valid-every steps, every piece at each
    # epoch end); the reference does the same work inside the same time limit.
    subset = [piece[:2000] for piece in valid[:8]]
    train_events = sum(len(piece[0]) for piece in train)
    tokens_per_step = args.batch * args.seq_len
    steps, started = 0, time.perf_counter()
    while True:
        elapsed = time.perf_counter() - started
        if (args.steps is not None and steps >= args.steps) or (args.minutes is not None and elapsed >= args.minutes * 60):
            break
        inputs, targets = sampler.batch(args.batch)
        logits, _ = net(inputs)
        loss = loss_fn(logits.reshape(-1, VOCAB), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), args.clip)
        optimizer.step()
        steps += 1
        if args.validate:
            if (steps * tokens_per_step) // train_events > ((steps - 1) * tokens_per_step) // train_events:
                score(net, valid, args.seq_len)
            elif steps % args.valid_every == 0:
                score(net, subset, args.seq_len)
    seconds = time.perf_counter() - started
    result = {"steps": steps, "seconds": seconds, "tokens_per_s": steps * args.batch * args.seq_len / seconds,
              "last_loss": float(loss)}
    if args.validate:
        result["valid_nll"] = score(net, valid, args.seq_len)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
